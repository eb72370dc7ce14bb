import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SendMessageCommandInput, SQSClient } from '@aws-sdk/client-sqs';

/** DynamoDB HTTP requests the service made, by operation and table. */
export interface DynamoCounts {
  total: number;
  /** `Operation table` → requests, e.g. `Query ticker-data`. */
  byOperation: Record<string, number>;
  /** Items in BatchWriteItem requests (write request units of 1-KB items). */
  itemsWritten: number;
  /** Items written to `ticker-data` (BatchWriteItem). */
  rowsWritten: number;
  /** Distinct `ticker-data` rows (ticker and timestamp) among the items written. */
  distinctRows: number;
  /** UpdateItem requests on request-budget items (`budget#…`), granted or refused. */
  budgetWrites: number;
  /**
   * Capacity units the requests consumed, as DynamoDB (dynalite) reports them with
   * `ReturnConsumedCapacity: TOTAL`, which the bench adds to every request: on-demand bills these.
   * A refused conditional write reports nothing; it is counted as one write unit.
   */
  readUnits: number;
  writeUnits: number;
}

export const emptyDynamoCounts = (): DynamoCounts => ({
  total: 0,
  byOperation: {},
  itemsWritten: 0,
  rowsWritten: 0,
  distinctRows: 0,
  budgetWrites: 0,
  readUnits: 0,
  writeUnits: 0,
});

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);

type Consumed = { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;
const unitsOf = (consumed: Consumed) =>
  [consumed ?? []].flat().reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);

type WriteRequests = Record<string, { PutRequest?: { Item?: Record<string, unknown> } }[]>;

/**
 * A string attribute as the middleware sees it: the document client has already marshalled the
 * input into DynamoDB's wire shape (`{ S: '…' }`) by the deserialize step.
 */
const str = (v: unknown): string =>
  typeof v === 'object' && v !== null && 'S' in v ? String(v.S) : String(v);

/**
 * Counts every DynamoDB HTTP attempt (retries included: the middleware sits in the deserialize
 * step, inside the SDK's retry loop) on the service's own DynamoDB clients, the ones
 * `lambdas/platform/aws-clients.ts` hands to every repository and to the request budget.
 * `tableLabel` maps a physical table name onto a short label.
 */
export function countDynamoRequests(
  clients: readonly DynamoDBDocumentClient[],
  tableLabel: (name: string) => string,
): { readonly counts: () => DynamoCounts; reset(): DynamoCounts } {
  let counts = emptyDynamoCounts();
  let rowKeys = new Set<string>();
  const seen = new Set<unknown>();
  for (const client of clients) {
    // Document clients wrapping one base client share its stack; count each stack once.
    if (seen.has(client.middlewareStack)) continue;
    seen.add(client.middlewareStack);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const input = args.input as {
          TableName?: string;
          Key?: { pk?: unknown };
          RequestItems?: Record<string, unknown[]>;
        };
        const tables = input.TableName ? [input.TableName] : Object.keys(input.RequestItems ?? {});
        const key = `${op} ${tables.map(tableLabel).join('+') || '-'}`;
        counts.total++;
        counts.byOperation[key] = (counts.byOperation[key] ?? 0) + 1;
        if (op === 'BatchWriteItem' || op === 'BatchWrite') {
          for (const [table, items] of Object.entries(input.RequestItems as WriteRequests)) {
            counts.itemsWritten += items.length;
            if (tableLabel(table) !== 'tickerData') continue;
            counts.rowsWritten += items.length;
            for (const { PutRequest } of items)
              rowKeys.add(`${str(PutRequest?.Item?.ticker)} ${str(PutRequest?.Item?.timestamp)}`);
            counts.distinctRows = rowKeys.size;
          }
        }
        if (op === 'UpdateItem' && str(input.Key?.pk).startsWith('budget#')) counts.budgetWrites++;
        return next(args);
      },
      { step: 'deserialize', name: 'benchDynamoRequestCounter' },
    );
    // Outside the retry loop: the units of the attempt that answered (DynamoDB bills failed
    // attempts too, but the bench sees almost none).
    client.middlewareStack.add(
      (next, context) => async (args) => {
        (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
        const read = READS.has((context.commandName ?? '').replace(/Command$/, ''));
        try {
          const result = await next(args);
          const output = result.output as { ConsumedCapacity?: Consumed } | undefined;
          const units = unitsOf(output?.ConsumedCapacity);
          if (read) counts.readUnits += units;
          else counts.writeUnits += units;
          return result;
        } catch (err) {
          if (!read && (err as Error).name === 'ConditionalCheckFailedException')
            counts.writeUnits++;
          throw err;
        }
      },
      { step: 'initialize', name: 'benchConsumedCapacity' },
    );
  }
  return {
    counts: () => counts,
    reset() {
      const before = counts;
      counts = emptyDynamoCounts();
      rowKeys = new Set<string>();
      return before;
    },
  };
}

/** A message whose SQS delay is played on the virtual clock instead of the local SQS's real one. */
export interface HeldMessage {
  readonly body: string;
  readonly dueAt: number;
  readonly delaySeconds: number;
}

/**
 * Plays SQS `DelaySeconds` on the virtual clock: a delayed SendMessage from the service is
 * validated as SQS would (integer 0-900 s, body ≤ 256 KiB), held here, and released to the real
 * (local) queue with no delay once the virtual clock reaches its due time. Everything else goes to
 * the local SQS unchanged. Also counts the service's SQS requests by operation.
 */
export function holdDelayedMessages(sqs: SQSClient, now: () => number) {
  const held: HeldMessage[] = [];
  let requests: Record<string, number> = {};
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const op = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      requests[op] = (requests[op] ?? 0) + 1;
      if (op === 'SendMessage') {
        const input = args.input as SendMessageCommandInput;
        const delay = input.DelaySeconds ?? 0;
        if (delay !== 0) {
          if (!Number.isInteger(delay) || delay < 0 || delay > 900)
            throw new Error(`InvalidParameterValue: DelaySeconds ${delay} (SQS allows 0 to 900)`);
          const body = input.MessageBody ?? '';
          if (Buffer.byteLength(body) > 256 * 1024)
            throw new Error('InvalidParameterValue: message body over 262144 bytes');
          held.push({ body, dueAt: now() + delay * 1000, delaySeconds: delay });
          return { output: { MessageId: `held-${held.length}`, $metadata: {} }, response: {} };
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'benchVirtualSqsDelay' },
  );
  return {
    /** Removes and returns the held message due first. */
    takeEarliest(): HeldMessage | undefined {
      if (held.length === 0) return undefined;
      let best = 0;
      for (let i = 1; i < held.length; i++) if (held[i].dueAt < held[best].dueAt) best = i;
      return held.splice(best, 1)[0];
    },
    get pending() {
      return held.length;
    },
    resetRequests() {
      const before = requests;
      requests = {};
      return before;
    },
  };
}
