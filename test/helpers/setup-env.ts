// Runs before any test module is imported: Powertools reads these at construction time.
process.env.TZ = 'UTC';
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_SERVICE_NAME = 'backend-processing-test';
process.env.POWERTOOLS_METRICS_NAMESPACE = 'ZsmSevenBackendProcessingTest';
process.env.POWERTOOLS_LOG_LEVEL = process.env.POWERTOOLS_LOG_LEVEL ?? 'SILENT';
process.env.AWS_REGION = process.env.AWS_REGION ?? 'us-east-1';
