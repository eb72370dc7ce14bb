import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { StageName } from '../../lib/config/stages';
import {
  BUSINESS_ALARMS,
  BUSINESS_WIDGETS,
  SPEND_CAP_WIDGET,
} from '../../lib/constructs/service-dashboard';
import { METRICS_NAMESPACE } from '../../lib/stacks/service-stack';
import { METRICS } from '../../lambdas/platform/metrics';
import { synthStage } from '../helpers/synth';

const lambdasDir = path.join(__dirname, '..', '..', 'lambdas');
const metricsFile = path.join(lambdasDir, 'platform', 'metrics.ts');

/** Every `.ts` file under lambdas/ except metrics.ts, with comments removed. */
function lambdaSources(dir = lambdasDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return lambdaSources(file);
    if (!e.name.endsWith('.ts') || file === metricsFile) return [];
    return [
      readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1'),
    ];
  });
}

/** The string parts of a (possibly `Fn::Join`ed) dashboard body, joined. */
const bodyText = (body: unknown): string =>
  typeof body === 'string'
    ? body
    : ((body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] ?? [])
        .filter((p): p is string => typeof p === 'string')
        .join('');

const known = new Set(Object.keys(METRICS));

describe.each(['dev', 'prod'] as StageName[])('business metrics in the template (%s)', (stage) => {
  const resources = synthStage(stage).template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, any> }
  >;
  const ofType = (type: string) => Object.values(resources).filter((r) => r.Type === type);

  it('alarms only on metrics named in METRICS', () => {
    const alarmed = ofType('AWS::CloudWatch::Alarm')
      .filter((a) => a.Properties.Namespace === METRICS_NAMESPACE)
      .map((a) => a.Properties.MetricName as string);
    expect(alarmed.length).toBe(BUSINESS_ALARMS.length);
    expect(alarmed.filter((m) => !known.has(m))).toEqual([]);
  });

  it('graphs only metrics named in METRICS', () => {
    const [dashboard] = ofType('AWS::CloudWatch::Dashboard');
    const body = bodyText(dashboard.Properties.DashboardBody);
    const pattern = new RegExp(`\\["${METRICS_NAMESPACE}","([^"]+)"`, 'g');
    const graphed = [...body.matchAll(pattern)].map((m) => m[1]);
    const listed = [
      ...BUSINESS_WIDGETS.flatMap((w) => [...w.left, ...(w.right ?? [])]),
      SPEND_CAP_WIDGET.left,
      SPEND_CAP_WIDGET.right,
    ];
    expect(graphed).toHaveLength(listed.length);
    expect(graphed.filter((m) => !known.has(m))).toEqual([]);
  });
});

describe('METRICS', () => {
  const sources = lambdaSources();

  it.each(Object.keys(METRICS))('%s is emitted somewhere in lambdas/', (name) => {
    // As a string literal (`addMetric('X', …)`, `count('X', …)`) or as `METRICS.X`.
    const used = new RegExp(`(['"\`])${name}\\1|METRICS\\.${name}\\b`);
    expect(sources.some((s) => used.test(s))).toBe(true);
  });

  it('finds no metric in a file that names none (the search can fail)', () => {
    const used = /(['"`])NoSuchMetric\1|METRICS\.NoSuchMetric\b/;
    expect(sources.some((s) => used.test(s))).toBe(false);
    expect(sources.length).toBeGreaterThan(10);
  });
});
