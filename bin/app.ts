#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { getStageConfig } from '../lib/config/stages';
import { addStage } from '../lib/app-builder';

// The only place that reads the outside world: the stage from `--context stage=<name>`
// (default dev) and, when the config names no account, `--context account=<id>` (the PR diff
// synthesizes before it has credentials) or else the account of the credentials in use.
// Only the selected stage is synthesized, so `cdk deploy --context stage=dev` can never touch prod.
const app = new App();
const config = getStageConfig(app.node.tryGetContext('stage') as string | undefined);
const account = app.node.tryGetContext('account') as string | undefined;
addStage(app, config, account ?? process.env.CDK_DEFAULT_ACCOUNT);
app.synth();
