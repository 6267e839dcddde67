import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * Calls `load` now and then every `everyMs` while the component lives, never two at once, and
 * keeps the last answer and the last error; a change of `key` starts over.
 */
export function usePolling<T>(key: string, load: () => Promise<T>, everyMs = 1000) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setValue(undefined);
    const tick = async () => {
      try {
        const next = await latest.current();
        if (!stopped) {
          setValue(next);
          setError(undefined);
        }
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
      if (!stopped) timer = setTimeout(tick, everyMs);
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [key, everyMs]);
  return { value, error };
}
