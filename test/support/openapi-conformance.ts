import { unauthorized } from '../../services/admin-api/src/api-operations';
import { problemsAgainst, type OperationSpec } from '../../services/admin-api/src/operation';

/**
 * Reads an admin API answer and fails unless its status is one the document lists for the
 * operation and its body matches the documented schema; returns the parsed body.
 */
export async function documented<T = Record<string, unknown>>(
  response: Response,
  spec: OperationSpec,
): Promise<T> {
  const listed = response.status === 401 ? unauthorized : spec.responses[response.status];
  const text = await response.text();
  if (!listed) {
    throw new Error(
      `${spec.operationId} answered ${response.status}, which its document does not list: ${text}`,
    );
  }
  const type = response.headers.get('content-type') ?? '';
  if (!listed.schema) {
    if (listed.contentTypes && !listed.contentTypes.some((t) => type.startsWith(t)))
      throw new Error(`${spec.operationId} answered ${type}, not one of ${listed.contentTypes.join(', ')}`);
    return text as unknown as T;
  }
  if (!type.startsWith('application/json')) throw new Error(`${spec.operationId} answered ${type}: ${text}`);
  const body = JSON.parse(text) as T;
  const problems = problemsAgainst(listed.schema, body);
  if (problems.length > 0) {
    throw new Error(
      `${spec.operationId} ${response.status} does not match its document: ${problems.join('; ')}\n${text}`,
    );
  }
  return body;
}
