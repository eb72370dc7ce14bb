/**
 * One line that says what to do about an AWS error of an operator command (`npm run logs`,
 * `npm run report`), or '' when there is nothing more useful than the error's own message.
 */
export function awsErrorHint(err: unknown, stage: string, local = 'or use --stage local'): string {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message))
    return `no AWS credentials: set AWS_PROFILE (or run "aws sso login"), ${local}.`;
  if (
    ['ExpiredTokenException', 'ExpiredToken', 'UnrecognizedClientException'].includes(name) ||
    /token.*expired|expired.*token|session.*expired/i.test(message)
  )
    return 'the AWS session has expired or is invalid: refresh it (e.g. "aws sso login") and run again.';
  if (['AccessDeniedException', 'AccessDenied'].includes(name))
    return `your credentials may not read the ${stage} stage (${message}).`;
  if (
    [
      'ResourceNotFoundException',
      'QueueDoesNotExist',
      'AWS.SimpleQueueService.NonExistentQueue',
    ].includes(name)
  )
    return `${message}: is the ${stage} stage deployed (npm run deploy:${stage}), and is --region right?`;
  return '';
}
