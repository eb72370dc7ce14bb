import { fork } from 'node:child_process';
import * as path from 'node:path';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { startSqsServer, type SqsServer } from './sqs-server';

export interface LocalSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  /** Creates a queue with its DLQ (named and redriven after 5 receives, as deployed) and returns both URLs. */
  createQueue(name: string): Promise<{ queueUrl: string; dlqUrl: string }>;
  /**
   * Empties a queue created by {@link createQueue} (or its DLQ) at once, delayed and in-flight
   * messages included, by deleting and re-creating it with the same name, URL and attributes.
   * For resetting between test cases: SQS's own PurgeQueue (and the local one) takes up to 60 s
   * and allows one call a minute.
   */
  purge(queueUrl: string): Promise<void>;
  close(): Promise<void>;
}

export interface LocalSqsOptions {
  /**
   * Run the endpoint in its own Node process (as the benchmark runs dynalite) instead of in this
   * one, so that its work is neither on this event loop nor in this process's CPU time.
   * @default false
   */
  readonly ownProcess?: boolean;
}

/** The endpoint in a child process (sim/sqs-server-process.ts, TypeScript loaded by tsx). */
function startSqsProcess(): Promise<SqsServer> {
  const child = fork(path.join(__dirname, 'sqs-server-process.ts'), [], {
    execArgv: ['--require', require.resolve('tsx/cjs')],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`The local SQS process exited with ${code}`)));
    child.once('message', (m) => {
      const { endpoint } = m as { endpoint: string };
      resolve({
        endpoint,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || !child.connected) return done();
            child.once('exit', () => done());
            child.disconnect();
          }),
      });
    });
  });
}

/** The attributes every local work queue is created with: as deployed, visibility shortened. */
function queueAttributes(dlqArn: string): Record<string, string> {
  return {
    VisibilityTimeout: '60',
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
  };
}

/**
 * Starts the local SQS endpoint (local-aws-sqs, see sim/sqs-server.ts: Node only, no Python) on
 * a free loopback port, in this process unless `ownProcess`. It speaks the SDK v3 JSON protocol
 * and validates like SQS (e.g. DelaySeconds over 900 is rejected).
 */
export async function startLocalSqs(opts: LocalSqsOptions = {}): Promise<LocalSqs> {
  const server = opts.ownProcess ? await startSqsProcess() : await startSqsServer();
  const { endpoint } = server;
  const client = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // What each queue was created with, by URL, to re-create it on purge.
  const created = new Map<string, { name: string; attributes?: Record<string, string> }>();
  const create = async (name: string, attributes?: Record<string, string>) => {
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    created.set(QueueUrl!, { name, attributes });
    return QueueUrl!;
  };
  return {
    endpoint,
    client,
    async createQueue(name: string) {
      // As deployed: ticker-processing-queue-{stage} → ticker-processing-dlq-{stage}.
      const dlqName = name.includes('-queue') ? name.replace('-queue', '-dlq') : `${name}-dlq`;
      const dlqUrl = await create(dlqName);
      const dlqArn = (
        await client.send(
          new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
        )
      ).Attributes!.QueueArn!;
      const queueUrl = await create(name, queueAttributes(dlqArn));
      return { queueUrl, dlqUrl };
    },
    async purge(queueUrl: string) {
      const queue = created.get(queueUrl);
      if (!queue) throw new Error(`${queueUrl} was not created by this LocalSqs`);
      await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
      const again = await create(queue.name, queue.attributes);
      if (again !== queueUrl) throw new Error(`${queue.name} came back as ${again}`);
    },
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
