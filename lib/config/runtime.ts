import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * The Node.js major Lambda runs our functions on: the one place it is set. The stack's runtime
 * and bundle target read it here; `.nvmrc`, `package.json` (`engines`, `@types/node`) and the
 * GitHub workflows (`node-version-file: .nvmrc`) must agree, which `test/infra/runtime.test.ts`
 * checks. `.ci/run` runs the tests on this major (fetched from the npm registry when the machine
 * has another).
 */
export const LAMBDA_NODE_MAJOR = 24;

/** The Lambda runtime of every function (arm64; see WorkerFunction). */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;

/**
 * esbuild's target for every bundle. Our code uses no syntax newer than Node 20 supports, so
 * the same bundles still load on a developer's Node 20 or 22 (`npm start`, `npm run bench`).
 */
export const BUNDLE_TARGET = `node${LAMBDA_NODE_MAJOR}`;
