#!/usr/bin/env node
// Dead-link checker for varcheck's Markdown docs and the generated typedoc site. Plain Node ≥ 20,
// no dependencies.
//
//   node tools/check-links.mjs [--root DIR] [--no-site] [--site DIR]
//
// 1. README.md and docs/*.md: every relative link, image and HTML href/src must name a file or
//    folder inside the repository, and every #anchor must exist in the target Markdown file
//    (explicit <a id="…"> / name="…" anchors, or GitHub's heading slugs). A plain-text mention of
//    a document that is not part of the repository (MATH.md, DESIGN.md, ../shared/) is reported too.
//    typedoc renders these files too (readme + projectDocuments) and resolves an anchor in a link
//    from one of them to another only against the target's heading slugs (explicit ids are
//    invisible to it, and it warns — an error under treatWarningsAsErrors), so such an anchor must
//    also be a typedoc heading slug.
// 2. The typedoc site (typedoc.json's "out", default docs/api; build it first with `npx typedoc`):
//    every relative href/src of every .html file must name an existing file, and its #fragment an
//    id or name in that file; a file name that markdown-it's linkify turned into a web address
//    (`MATH.md` in a doc comment becomes <a href="http://MATH.md">) is reported too.
// Prints each dead link as `file:line: target — reason` and exits 1 if there is one, 0 otherwise.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Documents users never see: any mention of them in a shipped doc is a dead reference. */
const OUTSIDE_REFERENCES = /\bMATH\.md\b|\bDESIGN\.md\b|\.\.\/shared\b/g;

/** Characters github-slugger deletes (Unicode punctuation, symbols, separators, controls; not '-', '_' or ' '). */
const SLUG_REMOVE = /[\p{No}\p{Pe}\p{Pf}\p{Pi}\p{Ps}\p{Po}\p{Pd}\p{S}\p{Cc}\p{Co}\p{Cf}\p{Cn}\p{Z}]/gu;

/**
 * GitHub's anchor for a heading's text (the github-slugger rules): lower-case, drop punctuation
 * and symbols except '-' and '_', spaces become '-'.
 * @param {string} text rendered heading text
 * @returns {string}
 */
export function githubSlug(text) {
  return text
    .toLowerCase()
    .replace(SLUG_REMOVE, (c) => (c === '-' || c === ' ' ? c : ''))
    .replace(/ /g, '-');
}

/**
 * typedoc's anchor for a heading's text (its Slugger: drop ASCII punctuation and the Unicode
 * General Punctuation blocks, whitespace becomes '-', the first run of '--' collapses, lower-case).
 * @param {string} text rendered heading text
 * @returns {string}
 */
export function typedocSlug(text) {
  const slug = text
    .trim()
    .replace(/[\u2000-\u206F\u2E00-\u2E7F\\'!"#$%&()*+,./:;<=>?@[\]^`{|}~]/g, '')
    .replace(/\s/g, '-')
    .replace(/--+/, '-');
  return (slug || '_').toLowerCase();
}

/**
 * The text a heading renders to: links and images become their text, code spans their content,
 * HTML tags and emphasis markers disappear.
 * @param {string} md
 * @returns {string}
 */
export function headingText(md) {
  return md
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/!?\[([^\]]*)\]\[[^\]]*\]/g, '$1')
    .replace(/`+([^`]*)`+/g, '$1')
    .replace(/<[^>]+>/g, '')
    .replace(/(^|\W)[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?=\W|$)/g, '$1')
    .trim();
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** @param {string} s */
function decodeEntities(s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ENTITIES[e.toLowerCase()] ?? m;
  });
}

/** @param {string} s */
function decodeUri(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A link target with a URI scheme (http:, mailto:, data:, …) or protocol-relative: not checked. */
function isExternal(target) {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

/**
 * Lines of a Markdown file that are prose (not front matter, not inside a fenced code block),
 * with inline code spans blanked (kept: `withCode` true).
 * @param {string} text
 * @returns {{ line: number, text: string, withCode: string }[]}
 */
export function proseLines(text) {
  const lines = text.split(/\r?\n/);
  const out = [];
  let i = 0;
  if (lines[0]?.trim() === '---') {
    const end = lines.findIndex((l, k) => k > 0 && /^(---|\.\.\.)\s*$/.test(l));
    if (end > 0) i = end + 1;
  }
  let fence = null;
  for (; i < lines.length; i++) {
    const l = lines[i];
    const m = /^\s*(`{3,}|~{3,})/.exec(l);
    if (fence) {
      if (m && m[1][0] === fence[0] && m[1].length >= fence.length && l.trim() === m[1]) fence = null;
      continue;
    }
    if (m) {
      fence = m[1];
      continue;
    }
    out.push({ line: i + 1, text: l.replace(/(`+)(?:(?!\1).)+?\1/g, (s) => ' '.repeat(s.length)), withCode: l });
  }
  return out;
}

/**
 * Every link target in a Markdown file: inline links and images, reference definitions, and
 * href/src attributes of inline HTML.
 * @param {string} text
 * @returns {{ line: number, target: string }[]}
 */
export function markdownLinks(text) {
  const links = [];
  for (const { line, text: l } of proseLines(text)) {
    for (const m of l.matchAll(/\]\(\s*(<[^>]*>|[^()\s]*(?:\([^()\s]*\)[^()\s]*)*)(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)/g)) {
      links.push({ line, target: m[1].replace(/^<|>$/g, '') });
    }
    const def = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(l);
    if (def) links.push({ line, target: def[1] });
    for (const m of l.matchAll(/<(?:a|img|link|script|source)\b[^>]*?\s(?:href|src)\s*=\s*("[^"]*"|'[^']*')/gi)) {
      links.push({ line, target: decodeEntities(m[1].slice(1, -1)) });
    }
  }
  return links;
}

/**
 * The anchors a Markdown file defines: explicit HTML id/name attributes, and heading slugs
 * (ATX and setext headings; repeated slugs get -1, -2, …) — GitHub's by default, typedoc's with
 * `{ typedoc: true }` (then without explicit ids, which typedoc does not see).
 * @param {string} text
 * @param {{ typedoc?: boolean }} [options]
 * @returns {Set<string>}
 */
export function markdownAnchors(text, options = {}) {
  const anchors = new Set();
  const seen = new Map();
  const slug = options.typedoc ? typedocSlug : githubSlug;
  const addHeading = (raw) => {
    const base = slug(headingText(raw));
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  };
  const lines = proseLines(text);
  lines.forEach(({ text: l, withCode }, k) => {
    if (!options.typedoc) for (const m of l.matchAll(/<[a-z][^>]*?\s(?:id|name)\s*=\s*("[^"]*"|'[^']*')/gi)) anchors.add(decodeEntities(m[1].slice(1, -1)));
    const atx = /^\s{0,3}#{1,6}(?:\s+(.*?))?(?:\s+#+)?\s*$/.exec(withCode);
    if (atx) return addHeading(atx[1] ?? '');
    const next = lines[k + 1];
    if (next && next.line === lines[k].line + 1 && /^\s{0,3}(=+|-+)\s*$/.test(next.withCode) && l.trim() !== '' && !/^\s{0,3}([-*+]\s|\d+[.)]\s|>|\|)/.test(l)) {
      addHeading(withCode.trim());
    }
  });
  return anchors;
}

/** Memoised markdownAnchors of a file (GitHub's view, or typedoc's). */
const anchorCache = new Map();
function anchorsOfMarkdown(file, typedoc = false) {
  const key = `${typedoc}:${file}`;
  if (!anchorCache.has(key)) anchorCache.set(key, markdownAnchors(readFileSync(file, 'utf8'), { typedoc }));
  return anchorCache.get(key);
}

/** The ids and names an HTML or SVG file defines. */
const htmlIdCache = new Map();
function idsOfHtml(file) {
  if (!htmlIdCache.has(file)) {
    const ids = new Set();
    for (const m of readFileSync(file, 'utf8').matchAll(/\s(?:id|name)\s*=\s*("[^"]*"|'[^']*')/gi)) ids.add(decodeEntities(m[1].slice(1, -1)));
    htmlIdCache.set(file, ids);
  }
  return htmlIdCache.get(file);
}

function inside(root, file) {
  const r = relative(root, file);
  return r === '' || (!r.startsWith('..') && !r.startsWith(sep) && !/^[a-z]:/i.test(r));
}

/**
 * Check the links of Markdown files.
 * @param {string} root repository root
 * @param {string[]} files Markdown files (absolute)
 * @returns {{ file: string, line: number, target: string, reason: string }[]}
 */
export function checkMarkdown(root, files) {
  const dead = [];
  const checked = new Set(files.map((f) => resolve(f)));
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const report = (line, target, reason) => dead.push({ file: relative(root, file), line, target, reason });
    for (const { line, target } of markdownLinks(text)) {
      if (target === '' || isExternal(target)) continue;
      const hash = target.indexOf('#');
      const pathPart = decodeUri((hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, ''));
      const fragment = hash < 0 ? undefined : decodeUri(target.slice(hash + 1));
      const dest = pathPart === '' ? file : resolve(dirname(file), pathPart);
      if (!inside(root, dest)) {
        report(line, target, 'leaves the repository');
        continue;
      }
      if (!existsSync(dest)) {
        report(line, target, 'no such file');
        continue;
      }
      if (fragment === undefined || fragment === '') continue;
      if (!statSync(dest).isFile() || extname(dest).toLowerCase() !== '.md') continue;
      if (!anchorsOfMarkdown(dest).has(fragment)) {
        report(line, target, `no anchor #${fragment} in ${relative(root, dest)}`);
      } else if (dest !== file && checked.has(dest) && !anchorsOfMarkdown(dest, true).has(fragment)) {
        report(line, target, `#${fragment} is not a heading of ${relative(root, dest)} as typedoc slugs it (typedoc ignores explicit ids in links between documents)`);
      }
    }
    for (const { line, withCode } of proseLines(text)) {
      for (const m of withCode.matchAll(OUTSIDE_REFERENCES)) report(line, m[0], 'mentions a document outside the repository');
    }
  }
  return dead;
}

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * Check the relative href/src targets (and their #fragments) of a generated HTML site.
 * @param {string} root repository root (for messages)
 * @param {string} site site folder
 * @returns {{ file: string, line: number, target: string, reason: string }[]}
 */
export function checkSite(root, site) {
  const dead = [];
  for (const file of walk(site).filter((f) => f.endsWith('.html'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/<a\b[^>]*?\shref="https?:\/\/([^"/]+\.md)\/?"[^>]*>([^<]*)<\/a>/gi)) {
      if (m[1] !== m[2].trim()) continue;
      const line = text.slice(0, m.index).split('\n').length;
      dead.push({ file: relative(root, file), line, target: `http://${m[1]}`, reason: `the file name ${m[1]} became a web address (markdown linkify); cite a document of the site instead` });
    }
    for (const m of text.matchAll(/\s(?:href|src)\s*=\s*("[^"]*"|'[^']*')/gi)) {
      const target = decodeEntities(m[1].slice(1, -1));
      if (isExternal(target)) continue;
      const line = text.slice(0, m.index).split('\n').length;
      const report = (reason) => dead.push({ file: relative(root, file), line, target, reason });
      const hash = target.indexOf('#');
      const pathPart = decodeUri((hash < 0 ? target : target.slice(0, hash)).replace(/\?.*$/, ''));
      const fragment = hash < 0 ? '' : decodeUri(target.slice(hash + 1));
      const dest = pathPart === '' ? file : resolve(dirname(file), pathPart);
      if (!inside(site, dest)) {
        report('leaves the site');
        continue;
      }
      if (!existsSync(dest)) {
        report('no such file');
        continue;
      }
      if (fragment === '' || !statSync(dest).isFile() || !/\.(html|svg)$/i.test(dest)) continue;
      if (!idsOfHtml(dest).has(fragment)) report(`no id "${fragment}" in ${relative(root, dest)}`);
    }
  }
  return dead;
}

/** The Markdown files checked: README.md and docs/*.md. */
export function markdownFiles(root) {
  const files = [join(root, 'README.md')].filter((f) => existsSync(f));
  const docs = join(root, 'docs');
  if (existsSync(docs)) {
    for (const e of readdirSync(docs, { withFileTypes: true })) if (e.isFile() && e.name.endsWith('.md')) files.push(join(docs, e.name));
  }
  return files.sort();
}

/** typedoc.json's `out`, relative to root (default docs/api). */
export function siteDir(root) {
  const config = join(root, 'typedoc.json');
  let out = 'docs/api';
  if (existsSync(config)) out = JSON.parse(readFileSync(config, 'utf8')).out ?? out;
  return resolve(root, out);
}

function main(argv) {
  let root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  let site;
  let checkSiteToo = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--root') root = resolve(argv[++i] ?? '.');
    else if (a === '--site') site = resolve(argv[++i] ?? '.');
    else if (a === '--no-site') checkSiteToo = false;
    else if (a === '-h' || a === '--help') {
      console.log('usage: node tools/check-links.mjs [--root DIR] [--no-site] [--site DIR]');
      return 0;
    } else {
      console.error(`check-links: unknown argument ${a}`);
      return 2;
    }
  }
  const files = markdownFiles(root);
  const dead = checkMarkdown(root, files);
  let summary = `${files.length} Markdown files`;
  if (checkSiteToo) {
    site ??= siteDir(root);
    if (!existsSync(site)) {
      dead.push({ file: relative(root, site) || '.', line: 0, target: '', reason: 'site not built: run `npx typedoc` first (or pass --no-site)' });
    } else {
      dead.push(...checkSite(root, site));
      summary += ` and the site ${relative(root, site)}`;
    }
  }
  for (const d of dead) console.log(`${d.file}:${d.line}: ${d.target} — ${d.reason}`);
  console.log(dead.length === 0 ? `check-links: ${summary}: no dead links` : `check-links: ${summary}: ${dead.length} dead link(s)`);
  return dead.length === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) process.exitCode = main(process.argv.slice(2));
