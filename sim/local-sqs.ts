import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

export interface LocalSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  /** Creates a queue with its DLQ (named and redriven after 5 receives, as deployed) and returns both URLs. */
  createQueue(name: string): Promise<{ queueUrl: string; dlqUrl: string }>;
  close(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

/**
 * Starts moto's server (Python `moto[server]`, on this machine image; elsewhere
 * `pip install 'moto[server]'`) on a free loopback port as the SQS endpoint. It speaks the SDK v3
 * JSON protocol and validates like SQS (e.g. DelaySeconds over 900 is rejected).
 */
export async function startLocalSqs(): Promise<LocalSqs> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  let proc: ChildProcess;
  try {
    proc = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    throw new Error(
      `Could not start moto_server (${(err as Error).message}). Install it with: pip install 'moto[server]>=5.2,<6'`,
      { cause: err },
    );
  }
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const spawnError = new Promise<never>((_, reject) =>
    proc.once('error', (err) =>
      reject(
        new Error(
          `Could not start moto_server (${err.message}). Install it with: pip install 'moto[server]>=5.2,<6'`,
        ),
      ),
    ),
  );
  const client = new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await Promise.race([fetch(`${endpoint}/moto-api/`), spawnError]);
      break;
    } catch (err) {
      if (
        Date.now() > deadline ||
        proc.exitCode !== null ||
        (err as Error).message.includes('moto_server')
      ) {
        proc.kill();
        throw new Error(`moto_server did not start: ${(err as Error).message} ${stderr}`, {
          cause: err,
        });
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  return {
    endpoint,
    client,
    async createQueue(name: string) {
      // As deployed: ticker-processing-queue-{stage} → ticker-processing-dlq-{stage}.
      const dlqName = name.includes('-queue') ? name.replace('-queue', '-dlq') : `${name}-dlq`;
      const dlq = await client.send(new CreateQueueCommand({ QueueName: dlqName }));
      const dlqArn = (
        await client.send(
          new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
        )
      ).Attributes!.QueueArn;
      const q = await client.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: '60',
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
          },
        }),
      );
      return { queueUrl: q.QueueUrl!, dlqUrl: dlq.QueueUrl! };
    },
    async close() {
      client.destroy();
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once('exit', r)));
    },
  };
}
