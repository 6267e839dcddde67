/** A refusal or failure worth one clear line to the user. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** The admin API over HTTP with the bearer token; errors carry the API's own message. */
export class AdminHttpClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  /** `shown` is the path as an error may show it, for a path that carries what must not be printed. */
  private async send(method: string, path: string, body?: unknown, shown = path): Promise<Response> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).catch((error: Error) => {
      throw new CliError(
        `the admin API at ${this.baseUrl} does not answer (${(error.cause as Error | undefined)?.message ?? error.message}); is the stack running? (--url or ADMIN_URL)`,
      );
    });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { message?: string };
      if (response.status === 401)
        throw new CliError('the admin token was refused (--token, ADMIN_TOKEN or .data/admin-token)');
      throw new CliError(`${method} ${shown}: ${response.status} ${problem.message ?? response.statusText}`);
    }
    return response;
  }

  async json<T>(method: string, path: string, body?: unknown, shown = path): Promise<T> {
    const response = await this.send(method, path, body, shown);
    return (response.status === 204 ? undefined : await response.json()) as T;
  }

  async bytes(path: string): Promise<Buffer> {
    return Buffer.from(await (await this.send('GET', path)).arrayBuffer());
  }
}
