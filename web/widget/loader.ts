/**
 * The Parley chat widget's loader: `<script src="https://parley.example/widget.js" data-key="wk_...">`.
 * It asks Parley whether this page may use the widget (the origin check), then adds a launcher
 * button and, on first open, the chat panel in an iframe served by Parley (the host page's CSS
 * cannot reach it). The visitor's credential lives in the iframe's own storage, never here and
 * never in a URL. Optional: `data-user-id` and `data-user-signature` (a signed, known customer).
 */
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script) return;
  const key = script.dataset.key ?? '';
  const base = new URL(script.src).origin;
  const identity =
    script.dataset.userId && script.dataset.userSignature
      ? { user_id: script.dataset.userId, signature: script.dataset.userSignature }
      : null;
  const OPEN = `parley-widget-open:${key}`;
  const KEPT = `parley-widget:${key}`;
  const kept = (t?: string | null) => {
    try {
      if (t === undefined) return localStorage.getItem(KEPT);
      if (t) localStorage.setItem(KEPT, t);
      else localStorage.removeItem(KEPT);
    } catch {}
    return null;
  };

  fetch(`${base}/v1/widget/config?key=${encodeURIComponent(key)}`)
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`HTTP ${r.status}`))))
    .then(
      (config: { colour: string; name: string }) => mount(config),
      (err: Error) => console.warn(`Parley widget not shown on this page: ${err.message}`),
    );

  function mount(config: { colour: string; name: string }) {
    const host = document.createElement('div');
    host.id = 'parley-widget-host';
    const root = host.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = `
      :host{all:initial}
      button{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;
        background:${config.colour};color:#fff;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);
        z-index:2147483646;display:flex;align-items:center;justify-content:center;padding:0}
      button:focus-visible{outline:3px solid #111;outline-offset:2px}
      svg{width:28px;height:28px;fill:currentColor}
      iframe{position:fixed;right:20px;bottom:88px;width:380px;height:600px;max-height:calc(100vh - 108px);
        border:0;border-radius:14px;box-shadow:0 8px 32px rgba(0,0,0,.25);z-index:2147483647;
        background:#fff;color-scheme:light}
      iframe[hidden]{display:none}
      @media (max-width:480px){iframe{right:0;bottom:0;width:100%;height:100%;max-height:none;border-radius:0}
        .open{display:none}}`;
    const button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('aria-label', `Chat with ${config.name}`);
    button.setAttribute('aria-expanded', 'false');
    const chatIcon =
      '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
    const closeIcon =
      '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12 19 17.6 17.6 19 12 13.4 6.4 19 5 17.6 10.6 12 5 6.4z"/></svg>';
    button.innerHTML = chatIcon;
    root.append(style, button);
    document.body.append(host);

    let frame: HTMLIFrameElement | null = null;
    const setOpen = (open: boolean) => {
      if (open && !frame) {
        frame = document.createElement('iframe');
        frame.title = `Chat with ${config.name}`;
        frame.src = `${base}/widget/frame?key=${encodeURIComponent(key)}`;
        frame.allow = 'clipboard-write';
        root.append(frame);
      }
      if (frame) frame.hidden = !open;
      button.innerHTML = open ? closeIcon : chatIcon;
      button.classList.toggle('open', open);
      button.setAttribute('aria-expanded', String(open));
      try {
        sessionStorage.setItem(OPEN, open ? '1' : '');
      } catch {}
    };
    button.addEventListener('click', () => setOpen(frame === null || frame.hidden !== false));

    window.addEventListener('message', (e) => {
      if (e.origin !== base || !frame || e.source !== frame.contentWindow) return;
      const type = (e.data as { type?: string } | null)?.type;
      if (type === 'parley:ready')
        frame.contentWindow?.postMessage(
          { type: 'parley:init', page_url: location.href, identity, token: kept() },
          base,
        );
      else if (type === 'parley:store') kept((e.data as { token?: string | null }).token ?? null);
      else if (type === 'parley:close') setOpen(false);
    });
    let reopen = false;
    try {
      reopen = sessionStorage.getItem(OPEN) === '1';
    } catch {}
    if (reopen) setOpen(true);
  }
})();
