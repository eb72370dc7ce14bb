import { SQSClient } from '@aws-sdk/client-sqs';
import { QUEUES, redrive, type QueueKey } from './ops/redrive';

/** `npm run redrive -- <ticker|analysis> --stage dev|prod [--rate N]` */
const usage = `Usage: npm run redrive -- <${Object.keys(QUEUES).join('|')}> --stage <dev|prod> [--rate N]
  Moves the DLQ's messages back to their queue (SQS message move task). --rate: messages per second (default 1).`;

async function main(argv: string[]): Promise<number> {
  const [queue, ...rest] = argv;
  const flag = (name: string) => {
    const i = rest.indexOf(`--${name}`);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const stage = flag('stage');
  if (!queue || !(queue in QUEUES) || !stage) {
    console.error(usage);
    return 2;
  }
  await redrive({
    client: new SQSClient({}),
    queue: queue as QueueKey,
    stage,
    ratePerSecond: Number(flag('rate') ?? 1),
    print: (line) => console.log(line),
  });
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
