import { useEffect, useState } from 'preact/hooks';
import type { AdminClient } from './admin-client';

/** A campaign's code, fetched with the token; `download` adds PNG and SVG links. */
export function QrImage(props: {
  client: AdminClient;
  path: string;
  ticket: string;
  scene: string;
  className?: string;
  download?: boolean;
}) {
  const [png, setPng] = useState<string>();
  const [svg, setSvg] = useState<string>();
  useEffect(() => {
    let urls: string[] = [];
    let live = true;
    void Promise.all([
      props.client.imageUrl(props.path, 'png'),
      props.download ? props.client.imageUrl(props.path, 'svg') : Promise.resolve(undefined),
    ]).then(([p, s]) => {
      urls = [p, s].filter((u): u is string => u !== undefined);
      if (!live) return urls.forEach((u) => URL.revokeObjectURL(u));
      setPng(p);
      setSvg(s);
    });
    return () => {
      live = false;
      urls.forEach((u) => URL.revokeObjectURL(u));
    };
    // A new ticket for the scene is a new image.
  }, [props.path, props.ticket, props.download]);

  const file = `qrcode-${props.scene}`;
  return (
    <div>
      {png ? (
        <img
          class={props.className}
          src={png}
          alt={`QR code for scene ${props.scene}`}
          data-testid="qr-image"
        />
      ) : (
        <div class={props.className} />
      )}
      {props.download && png && (
        <div class="meta">
          <a href={png} download={`${file}.png`} data-testid="download-png">
            PNG
          </a>{' '}
          ·{' '}
          {svg && (
            <a href={svg} download={`${file}.svg`}>
              SVG
            </a>
          )}
        </div>
      )}
    </div>
  );
}
