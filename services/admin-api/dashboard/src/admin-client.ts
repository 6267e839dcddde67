/** The admin API as the dashboard uses it: every call carries the token the user signed in with. */

export interface Figures {
  scans: number;
  subscribes: number;
  returning: number;
  unsubscribes: number;
}

export interface QrCode {
  scene: string;
  kind: 'temporary' | 'permanent';
  name?: string;
  ticket: string;
  expiresAt?: string;
  expired: boolean;
  createdAt: string;
  imageUrl: string;
  stats: Figures;
}

export interface CampaignStats extends Figures {
  scene: string;
  name?: string;
  days: (Figures & { day: string })[];
}

export interface NewQrCode {
  kind: 'temporary' | 'permanent';
  scene: number | string;
  expireSeconds?: number;
  name?: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class AdminClient {
  constructor(private readonly token: string) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      const problem = (await response.json().catch(() => ({}))) as { message?: string };
      throw new ApiError(response.status, problem.message ?? `HTTP ${response.status}`);
    }
    return (await response.json()) as T;
  }

  apps(): Promise<{ apps: { appId: string }[] }> {
    return this.call('GET', '/api/apps');
  }

  qrCodes(appId: string): Promise<{ qrcodes: QrCode[] }> {
    return this.call('GET', `/api/apps/${encodeURIComponent(appId)}/qrcodes`);
  }

  createQrCode(appId: string, code: NewQrCode): Promise<QrCode & { scene: string | number }> {
    return this.call('POST', `/api/apps/${encodeURIComponent(appId)}/qrcodes`, code);
  }

  stats(appId: string, scene: string): Promise<CampaignStats> {
    return this.call(
      'GET',
      `/api/apps/${encodeURIComponent(appId)}/campaigns/${encodeURIComponent(scene)}/stats`,
    );
  }

  /** The image as a blob URL: an <img> cannot send the bearer token itself. */
  async imageUrl(path: string, format: 'png' | 'svg' = 'png'): Promise<string> {
    const response = await fetch(`${path}?format=${format}`, {
      headers: { authorization: `Bearer ${this.token}` },
    });
    if (!response.ok) throw new ApiError(response.status, `image: HTTP ${response.status}`);
    return URL.createObjectURL(await response.blob());
  }
}
