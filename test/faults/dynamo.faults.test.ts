/**
 * DynamoDB misbehaving during a whole night, through the fault-injecting proxy in front of
 * dynalite (sim/dynamo-fault-proxy.ts): throttled batch writes and a position deleted between
 * the night's read and its write.
 */
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { checkNight, describeNight } from './harness/invariants';
import { faultCase } from './harness/recorder';
import { useWorld, withNewTickers, type World } from './harness/world';

let world: World;
useWorld('dynamo', (w) => (world = w));

faultCase('D01', async (rec) => {
  const seeded = await world.seed(withNewTickers('ZABA', 'ZABB'));
  world.proxy.addRule({
    operation: 'BatchWriteItem',
    table: world.names.tickerData,
    times: 10,
    fault: { kind: 'unprocessed', fraction: 0.5 },
  });
  const from = world.proxy.requests.length;

  const night = await world.night();

  const returned = world.proxy.requests.slice(from).reduce((s, r) => s + (r.unprocessed ?? 0), 0);
  rec.did(
    `${returned} rows returned as UnprocessedItems over 10 batches, re-sent; ${describeNight(night)}`,
  );
  expect(returned).toBeGreaterThan(0);
  expect(night.tickerDrain).toMatchObject({ failures: 0 });
  await checkNight(world, seeded, night, rec);
  rec.checked('UnprocessedItems re-sent within the invocation (no job failure)');
});

faultCase('D02', async (rec) => {
  const seeded = await world.seed();
  // The functions' DynamoDB client makes 5 attempts: 5 throttles exhaust one call's retries.
  world.proxy.addRule({
    operation: 'BatchWriteItem',
    table: world.names.tickerData,
    times: 5,
    fault: { kind: 'error', type: 'ProvisionedThroughputExceededException' },
  });

  const night = await world.night();

  rec.did(
    `the job failed ${night.tickerDrain?.failures} time(s), SQS redelivered it and the retry completed; ${describeNight(night)}`,
  );
  expect(night.tickerDrain?.failures).toBe(1);
  expect(night.metrics.RefreshFailures).toBe(1);
  await checkNight(world, seeded, night, rec);
  rec.checked('exactly one failed delivery, counted as RefreshFailures');
});

faultCase('D03', async (rec) => {
  const seeded = await world.seed();
  let deletedId = '';
  world.proxy.addRule({
    operation: 'UpdateItem',
    table: world.names.positions,
    times: 1,
    fault: {
      kind: 'before',
      run: async (request) => {
        deletedId = String((request.body.Key as { id: { S: string } }).id.S);
        await world.doc.send(
          new DeleteCommand({ TableName: world.names.positions, Key: { id: deletedId } }),
        );
      },
    },
  });

  const night = await world.night();

  rec.did(`a position was deleted just before its price update; ${describeNight(night)}`);
  expect(deletedId).not.toBe('');
  expect(night.metrics.PositionsSkipped).toBe(1);
  await checkNight(world, seeded, night, rec, { deletedPositions: [deletedId] });
  rec.checked('the update failed its condition and was counted as skipped');
});
