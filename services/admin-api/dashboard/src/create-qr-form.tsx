import { useState } from 'preact/hooks';
import type { AdminClient, NewQrCode } from './admin-client';

/** Scenes of digits are numeric scenes (QR_SCENE); anything else is a text scene (QR_STR_SCENE). */
export function sceneOf(text: string): number | string {
  const trimmed = text.trim();
  return /^[1-9]\d{0,9}$/.test(trimmed) ? Number(trimmed) : trimmed;
}

export function CreateQrForm(props: { client: AdminClient; appId: string; onCreated(scene: string): void }) {
  const [kind, setKind] = useState<NewQrCode['kind']>('temporary');
  const [scene, setScene] = useState('');
  const [name, setName] = useState('');
  const [days, setDays] = useState('30');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const code: NewQrCode = {
        kind,
        scene: sceneOf(scene),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(kind === 'temporary' ? { expireSeconds: Math.round(Number(days) * 86400) } : {}),
      };
      const created = await props.client.createQrCode(props.appId, code);
      setScene('');
      setName('');
      props.onCreated(String(created.scene));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="stack" onSubmit={submit} aria-label="Create a QR code">
      <h2>New QR code</h2>
      <label>
        Campaign name
        <input name="name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Scene (a number, or text up to 64 characters)
        <input name="scene" required value={scene} onInput={(e) => setScene(e.currentTarget.value)} />
      </label>
      <label>
        Kind
        <select
          name="kind"
          value={kind}
          onChange={(e) => setKind(e.currentTarget.value as NewQrCode['kind'])}
        >
          <option value="temporary">Temporary (up to 30 days)</option>
          <option value="permanent">Permanent</option>
        </select>
      </label>
      {kind === 'temporary' && (
        <label>
          Valid for (days)
          <input
            name="days"
            type="number"
            min="0.01"
            max="30"
            step="any"
            value={days}
            onInput={(e) => setDays(e.currentTarget.value)}
          />
        </label>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create QR code'}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
