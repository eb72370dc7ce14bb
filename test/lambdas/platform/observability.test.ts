import {
  countMetric,
  flowObservability,
  logger,
  metrics,
  MetricUnit,
} from '../../../lambdas/platform/observability';

describe('countMetric', () => {
  afterEach(() => jest.restoreAllMocks());

  it('adds a metric in the unit METRICS gives it', () => {
    // Prepare
    const add = jest.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);

    // Act
    countMetric('XaiCostUsd', 0.25);
    countMetric('AnalysesStored', 2);

    // Assess
    expect(add.mock.calls).toEqual([
      ['XaiCostUsd', MetricUnit.NoUnit, 0.25],
      ['AnalysesStored', MetricUnit.Count, 2],
    ]);
  });

  it('adds nothing for zero (no zero datapoints)', () => {
    // Prepare
    const add = jest.spyOn(metrics, 'addMetric').mockImplementation(() => metrics);

    // Act
    countMetric('AnalysesQueued', 0);

    // Assess
    expect(add).not.toHaveBeenCalled();
  });
});

describe('flowObservability', () => {
  afterEach(() => jest.restoreAllMocks());

  it('logs at the level the flow names, with its data', () => {
    // Prepare
    const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);

    // Act
    flowObservability.log('warn', 'Something to see', { portfolioId: 'p1' });

    // Assess
    expect(warn).toHaveBeenCalledWith('Something to see', { portfolioId: 'p1' });
  });

  it('tags following log lines with the run as correlation_id', () => {
    // Prepare
    const append = jest.spyOn(logger, 'appendKeys');

    // Act
    flowObservability.correlate('run-9');

    // Assess
    expect(append).toHaveBeenCalledWith({ correlation_id: 'run-9' });
    logger.removeKeys(['correlation_id']);
  });
});
