/**
 * Message formatting: a markdown subset (bold, italic, inline code, code blocks, links, lists,
 * quotes) rendered by markdown-it with raw HTML off, then sanitized by DOMPurify with a short
 * list of allowed tags. The stored text stays exactly as typed; only the client renders it.
 * Typed HTML is shown as text; links open in a new tab with rel="noopener noreferrer".
 */
import DOMPurify from 'dompurify';
import MarkdownIt from 'markdown-it';
import { useMemo } from 'react';

const md = new MarkdownIt('default', { html: false, linkify: true, breaks: true, typographer: false });
// Only the subset: no headings, tables, rules or images (a "# " line or "---" stays text).
md.disable(['heading', 'lheading', 'table', 'hr', 'image', 'reference', 'html_block', 'html_inline']);

const defaultLinkOpen =
  md.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx]!;
  token.attrSet('target', '_blank');
  token.attrSet('rel', 'noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/**
 * Mentions: `<@ID>` (a member, shown as @Name) and `@all`, as highlighted spans; yours (your id
 * or `@all`) stronger. Names come from the render's env; an unknown id shows as @someone.
 */
export interface MentionEnv {
  names: Map<string, string>;
  meId: string;
}
const MENTION = /<@(\d{1,20})>|(?<![\w@])@all\b/g;
md.core.ruler.push('mentions', (state) => {
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const out: typeof block.children = [];
    for (const tok of block.children) {
      if (tok.type !== 'text' || !tok.content.includes('@')) {
        out.push(tok);
        continue;
      }
      let last = 0;
      for (const m of tok.content.matchAll(MENTION)) {
        if (m.index > last) {
          const t = new state.Token('text', '', 0);
          t.content = tok.content.slice(last, m.index);
          out.push(t);
        }
        const t = new state.Token('mention', '', 0);
        t.meta = { id: m[1] ?? null };
        out.push(t);
        last = m.index + m[0].length;
      }
      if (last === 0) {
        out.push(tok);
        continue;
      }
      if (last < tok.content.length) {
        const t = new state.Token('text', '', 0);
        t.content = tok.content.slice(last);
        out.push(t);
      }
    }
    block.children = out;
  }
});
md.renderer.rules.mention = (tokens, idx, _options, rawEnv) => {
  const env = (rawEnv ?? {}) as Partial<MentionEnv>;
  const id = (tokens[idx]!.meta as { id: string | null }).id;
  const name = id === null ? 'all' : (env.names?.get(id) ?? 'someone');
  const mine = id === null || id === env.meId;
  return `<span class="mention${mine ? ' mention-me' : ''}">@${md.utils.escapeHtml(name)}</span>`;
};

const ALLOWED_TAGS = [
  'span',
  'p',
  'br',
  'strong',
  'em',
  's',
  'code',
  'pre',
  'a',
  'ul',
  'ol',
  'li',
  'blockquote',
];
const ALLOWED_ATTR = ['href', 'target', 'rel', 'start', 'class'];

// Whatever survives: links keep only http(s) and mailto, and always open safely.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  // Only the mention spans keep a class (and only theirs).
  const cls = node.getAttribute('class');
  if (cls !== null && !(node.tagName === 'SPAN' && /^mention( mention-me)?$/.test(cls)))
    node.removeAttribute('class');
  if (node.tagName === 'A') {
    const href = node.getAttribute('href') ?? '';
    if (!/^(https?:|mailto:)/i.test(href)) node.removeAttribute('href');
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/** The message text as sanitized HTML. */
export function renderMarkdown(text: string, env?: MentionEnv): string {
  return DOMPurify.sanitize(md.render(text, { ...env }), {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  });
}

/** A message's text, formatted. */
export function Markdown({
  text,
  className,
  mentions,
}: {
  text: string;
  className?: string;
  mentions?: MentionEnv;
}) {
  const html = useMemo(() => renderMarkdown(text, mentions), [text, mentions]);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: markdown-it with html off, then DOMPurify (allow-list)
  return <div className={className} dangerouslySetInnerHTML={{ __html: html }} />;
}

/** The text without its markup (a preview: the list's last message, the pinned banner, a quote). */
export function plainText(text: string, env?: MentionEnv): string {
  const doc = new DOMParser().parseFromString(renderMarkdown(text, env), 'text/html');
  return (doc.body.textContent ?? '').replace(/\s+/g, ' ').trim();
}
