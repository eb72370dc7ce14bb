import {
  estimateMonthlyCost,
  llmMonthly,
  PRICES,
  totalOf,
  type MonthlyUsage,
} from '../../../scripts/bench/cost';

const usage: MonthlyUsage = {
  label: 'hand-computed',
  nightsPerMonth: 20,
  lambda: [
    // 1 GB for 1,000 s a night = 1,000 GB-s a night.
    {
      fn: 'a',
      memoryMb: 1024,
      invocationsPerNight: 10,
      billedMsPerNight: 1_000_000,
      source: 'measured',
    },
    // 0.5 GB for 2,000 s a night = 1,000 GB-s a night.
    {
      fn: 'b',
      memoryMb: 512,
      invocationsPerNight: 90,
      billedMsPerNight: 2_000_000,
      source: 'modelled',
    },
  ],
  dynamo: { readUnitsPerNight: 1e6, writeUnitsPerNight: 2e6, storageGb: 2 },
  sqsRequestsPerNight: 100_000,
  cloudwatch: {
    metrics: 73,
    metricHoursPerNight: 1,
    alarms: 12,
    dashboards: 1,
    logGbPerNight: 0.1,
    logRetentionDays: 30.4,
  },
  secrets: { count: 2, callsPerNight: 10_000 },
};

const line = (service: string) => {
  const found = estimateMonthlyCost(usage).find((l) => l.service.startsWith(service));
  if (!found) throw new Error(`no line ${service}`);
  return found;
};

describe('monthly cost estimate', () => {
  it('prices Lambda by GB-second on arm64 and by request, with the free tier apart', () => {
    // 2,000 GB-s a night × 20 nights = 40,000 GB-s; 100 invocations × 20 = 2,000 requests.
    expect(line('Lambda compute').listUsd).toBeCloseTo(40_000 * PRICES.lambdaArmGbSecond, 10);
    expect(line('Lambda compute').afterFreeTierUsd).toBe(0);
    expect(line('Lambda compute').detail).toContain('modelled: b');
    expect(line('Lambda requests').listUsd).toBeCloseTo(2_000 * 0.2e-6, 12);
  });

  it('prices DynamoDB by consumed units, storage and PITR', () => {
    // 20 M reads × $0.125/M + 40 M writes × $0.625/M = $2.50 + $25.00.
    expect(line('DynamoDB requests').listUsd).toBeCloseTo(27.5, 10);
    // 2 GB × ($0.25 + $0.20); storage is inside the 25-GB free tier, PITR is not.
    expect(line('DynamoDB storage').listUsd).toBeCloseTo(0.9, 10);
    expect(line('DynamoDB storage').afterFreeTierUsd).toBeCloseTo(0.4, 10);
  });

  it('bills custom metrics only for the hours they receive data', () => {
    // 73 metrics × 1 h × 20 nights = 1,460 metric-hours = 2 metric-months (730 h).
    expect(line('CloudWatch custom metrics').listUsd).toBeCloseTo(2 * 0.3, 10);
    expect(line('CloudWatch custom metrics').afterFreeTierUsd).toBe(0);
    expect(line('CloudWatch alarms').listUsd).toBeCloseTo(1.2, 10);
    expect(line('CloudWatch alarms').afterFreeTierUsd).toBeCloseTo(0.2, 10);
    expect(line('CloudWatch dashboard').listUsd).toBe(3);
    expect(line('CloudWatch dashboard').afterFreeTierUsd).toBe(0);
  });

  it('prices logs by ingestion and by what the retention period keeps', () => {
    // 2 GB ingested a month ($1.00); 0.1 GB × 20/30.4 nights a day × 30.4 days = 2 GB stored ($0.06).
    expect(line('CloudWatch Logs').listUsd).toBeCloseTo(1.06, 10);
  });

  it('prices SQS, secrets and schedules', () => {
    expect(line('SQS').listUsd).toBeCloseTo(2e6 * 0.4e-6, 10);
    expect(line('SQS').afterFreeTierUsd).toBeCloseTo(1e6 * 0.4e-6, 10);
    // 2 × $0.40 + 200,000 calls × $0.05 / 10,000.
    expect(line('Secrets Manager').listUsd).toBeCloseTo(0.8 + 1, 10);
    expect(line('EventBridge').listUsd).toBe(0);
  });

  it('totals the lines', () => {
    const lines = estimateMonthlyCost(usage);
    expect(totalOf(lines, 'listUsd')).toBeCloseTo(
      lines.reduce((s, l) => s + l.listUsd, 0),
      10,
    );
    expect(totalOf(lines, 'afterFreeTierUsd')).toBeLessThan(totalOf(lines, 'listUsd'));
  });

  it('keeps the LLM apart: tokens × the model price', () => {
    const llm = llmMonthly(
      {
        model: 'm',
        analysesPerNight: 1_000,
        promptTokens: 2_000,
        completionTokens: 500,
        price: { input: 1.25, output: 2.5 },
      },
      20,
    );
    expect(llm.analyses).toBe(20_000);
    expect(llm.tokens).toBe(50_000_000);
    // 20,000 × (2,000 × 1.25 + 500 × 2.5) / 1e6 = $75.
    expect(llm.usd).toBeCloseTo(75, 10);
  });
});
