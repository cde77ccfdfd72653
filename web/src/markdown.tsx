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

const ALLOWED_TAGS = ['p', 'br', 'strong', 'em', 's', 'code', 'pre', 'a', 'ul', 'ol', 'li', 'blockquote'];
const ALLOWED_ATTR = ['href', 'target', 'rel', 'start'];

// Whatever survives: links keep only http(s) and mailto, and always open safely.
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    const href = node.getAttribute('href') ?? '';
    if (!/^(https?:|mailto:)/i.test(href)) node.removeAttribute('href');
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

/** The message text as sanitized HTML. */
export function renderMarkdown(text: string): string {
  return DOMPurify.sanitize(md.render(text), {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: /^(?:https?:|mailto:)/i,
  });
}

/** A message's text, formatted. */
export function Markdown({ text, className }: { text: string; className?: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  // biome-ignore lint/security/noDangerouslySetInnerHtml: markdown-it with html off, then DOMPurify (allow-list)
  return <div className={className} dangerouslySetInnerHTML={{ __html: html }} />;
}

/** The text without its markup (a preview: the list's last message, the pinned banner, a quote). */
export function plainText(text: string): string {
  const doc = new DOMParser().parseFromString(renderMarkdown(text), 'text/html');
  return (doc.body.textContent ?? '').replace(/\s+/g, ' ').trim();
}
