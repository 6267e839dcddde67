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

/** What became of a code's scans and follows, counted on the day of the scan or follow. */
export interface FunnelFigures {
  scans: number;
  newFollows: number;
  returningFollows: number;
  engagedWithin24h: number;
  unfollowedWithin7d: number;
  unfollowedWithin30d: number;
}

export interface CampaignFunnel extends FunnelFigures {
  scene: string;
  from?: string;
  to?: string;
  days: (FunnelFigures & { day: string })[];
}

export interface NewQrCode {
  kind: 'temporary' | 'permanent';
  scene: number | string;
  expireSeconds?: number;
  name?: string;
}

export type MessageKind =
  'text' | 'image' | 'voice' | 'video' | 'music' | 'news' | 'mpnews' | 'miniprogrampage';

/** WeChat's customer-service body without `touser`: `msgtype` and an object under that name. */
export interface ReplyMessage {
  msgtype: MessageKind;
  [body: string]: unknown;
}

export interface KeywordRule {
  match: 'exact' | 'contains';
  keyword: string;
  reply: ReplyMessage;
}

export interface ReplyRules {
  menu: Record<string, ReplyMessage>;
  welcome: Record<string, ReplyMessage>;
  scan: Record<string, ReplyMessage>;
  keywords: { rules: KeywordRule[]; default?: ReplyMessage };
}

export interface MenuButton {
  type?: string;
  name: string;
  key?: string;
  url?: string;
  media_id?: string;
  article_id?: string;
  appid?: string;
  pagepath?: string;
  sub_button?: MenuButton[];
}

export interface Menu {
  button: MenuButton[];
}

export interface FollowerStats {
  followers: number;
  follows: number;
  unfollows: number;
  days: { day: string; follows: number; unfollows: number }[];
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
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private appPath(appId: string, rest: string): string {
    return `/api/apps/${encodeURIComponent(appId)}/${rest}`;
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

  /** The funnel of the cohort days the API chooses: the latest year with figures. */
  funnel(appId: string, scene: string): Promise<CampaignFunnel> {
    return this.call('GET', this.appPath(appId, `campaigns/${encodeURIComponent(scene)}/funnel`));
  }

  replies(appId: string): Promise<ReplyRules> {
    return this.call('GET', this.appPath(appId, 'replies'));
  }

  setReplies(appId: string, rules: ReplyRules): Promise<ReplyRules & { accepted: string }> {
    return this.call('PUT', this.appPath(appId, 'replies'), rules);
  }

  /** The published menu, or undefined when the account has none (WeChat's 46003, a 404 here). */
  async menu(appId: string): Promise<Menu | undefined> {
    try {
      return (await this.call<{ menu: Menu }>('GET', this.appPath(appId, 'menu'))).menu;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  publishMenu(appId: string, menu: Menu): Promise<{ menu: Menu; event: string }> {
    return this.call('PUT', this.appPath(appId, 'menu'), menu);
  }

  deleteMenu(appId: string): Promise<void> {
    return this.call('DELETE', this.appPath(appId, 'menu'));
  }

  followerStats(appId: string): Promise<FollowerStats> {
    return this.call('GET', this.appPath(appId, 'follower-stats'));
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
