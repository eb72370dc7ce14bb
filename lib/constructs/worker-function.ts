import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUNDLE_TARGET, LAMBDA_RUNTIME } from '../config/runtime';
import type { FunctionConfig } from '../config/stages';

/** The repository root: entries, the lock file and `projectRoot` resolve from here, not the shell's cwd. */
export const repoRoot = path.resolve(__dirname, '..', '..');

export { BUNDLE_TARGET };

/** Absolute path of a function's entry file under `lambdas/handlers/`. */
export const handlerEntry = (entryFile: string) =>
  path.join(repoRoot, 'lambdas', 'handlers', entryFile);

/**
 * ES modules before CommonJS: the AWS SDK v3 packages ship both (`dist-es` under `module`,
 * `dist-cjs` under `main`); only the ES build lets esbuild drop the commands and serde code a
 * function does not use (about 200 KB less per bundle, and less to load at every cold start).
 */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'];

/**
 * The esbuild options that reproduce a deployed bundle (same target, format, minification,
 * source map, SDK bundled), for tests, benchmarks and local runs that build bundles themselves.
 */
export function esbuildOptions(entryFile: string, outfile: string) {
  return {
    entryPoints: [handlerEntry(entryFile)],
    bundle: true,
    platform: 'node' as const,
    target: BUNDLE_TARGET,
    mainFields: BUNDLE_MAIN_FIELDS,
    format: 'cjs' as const,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    outfile,
    logLevel: 'silent' as const,
  };
}

export interface WorkerFunctionProps {
  /** Physical function name (a contract: operators type it). */
  readonly functionName: string;
  /** Entry file, relative to `lambdas/handlers/`, exporting `handler`. */
  readonly entryFile: string;
  readonly settings: FunctionConfig;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetentionDays: logs.RetentionDays;
  readonly logRemovalPolicy: RemovalPolicy;
  readonly description: string;
}

/**
 * A Lambda function with the house defaults: pinned runtime on arm64, its own IAM role that may
 * write only to its own explicit log group, source maps, the AWS SDK bundled (not the runtime's
 * copy), CommonJS output, and the Powertools environment.
 */
export class WorkerFunction extends NodejsFunction {
  /** The function's explicit log group (retention from the stage config). */
  public readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkerFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retention: props.logRetentionDays,
      removalPolicy: props.logRemovalPolicy,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole: logs only to this function's group.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.functionName}`,
    });
    super(scope, id, {
      functionName: props.functionName,
      description: props.description,
      entry: handlerEntry(props.entryFile),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.settings.memoryMb,
      timeout: Duration.seconds(props.settings.timeoutSeconds),
      role,
      logGroup,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.CJS,
        target: BUNDLE_TARGET,
        mainFields: BUNDLE_MAIN_FIELDS,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Bundle the SDK version the lock file pins instead of relying on the runtime's copy.
        externalModules: [],
        forceDockerBundling: false,
      },
    });
    this.functionLogGroup = logGroup;
    logGroup.grantWrite(role);
  }
}
