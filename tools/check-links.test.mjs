// Tests of tools/check-links.mjs (node:test, no dependencies): node --test tools/check-links.test.mjs
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { checkMarkdown, checkSite, githubSlug, headingText, markdownAnchors, markdownFiles, typedocSlug } from './check-links.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'check-links-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Write files under a fresh root; returns the root. */
function tree(name, files) {
  const root = join(tmp, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

test('GitHub heading slugs', () => {
  assert.equal(githubSlug(headingText('1. Notation')), '1-notation');
  assert.equal(githubSlug(headingText('E1: kernel error to output error')), 'e1-kernel-error-to-output-error');
  assert.equal(githubSlug(headingText('Certified polynomials ([math §5](math.md#taylor), E5)')), 'certified-polynomials-math-5-e5');
  assert.equal(githubSlug(headingText('The φ residual [VAR]')), 'the-φ-residual-var');
  assert.equal(githubSlug(headingText('`rank` and **r = C(d+g, g)**')), 'rank-and-r--cdg-g');
});

test('typedoc heading slugs (ids typedoc 0.28 generated for these headings)', () => {
  assert.equal(typedocSlug(headingText('Certified polynomials (MATH.md §5, E5)')), 'certified-polynomials-mathmd-§5-e5');
  assert.equal(typedocSlug(headingText('Error propagation (MATH.md §6)')), 'error-propagation-mathmd-§6');
  assert.equal(typedocSlug(headingText('Low-rank attention, error bounds and the threshold')), 'low-rank-attention-error-bounds-and-the-threshold');
});

test('anchors: explicit ids, heading slugs, duplicates, setext; not inside code', () => {
  const a = markdownAnchors(['---', 'title: x', '---', '<a id="e1"></a>', '', '## Same', '## Same', 'Setext', '------', '```', '# in code', '```'].join('\n'));
  assert.deepEqual([...a].sort(), ['e1', 'same', 'same-1', 'setext']);
});

test('a correct tree has no dead links', () => {
  const root = tree('ok', {
    'README.md': '[math](docs/math.md#notation) [guide](docs/guide.md#a-heading) [ext](https://example.org/x.md#nope) [top](#readme)\n# README\n',
    'docs/math.md': '<a id="notation"></a>\n\n## Notation\n<a id="sub"></a>\n[self](#notation) [same-page explicit id](#sub) [img](pic.png) `[code](missing.md)`\n```\n[fenced](missing.md)\n```\n',
    'docs/guide.md': '# A heading\n[back](../README.md) [dir](../docs/) [ref]\n\n[ref]: math.md#notation\n',
    'docs/pic.png': '',
  });
  assert.deepEqual(checkMarkdown(root, markdownFiles(root)), []);
});

test('dead files, dead anchors, links out of the repository and outside documents are reported', () => {
  const root = tree('dead', {
    'README.md': 'See MATH.md §6 and `../shared/DESIGN.md`.\n[gone](docs/gone.md)\n',
    'docs/math.md': '# Math\n[anchor](guide.md#no-such-heading) [out](../../elsewhere.md) <a href="nothere.html">x</a>\n<a id="only-id"></a>\n',
    'docs/guide.md': '# Guide\n[ref] [explicit only](math.md#only-id)\n\n[ref]: math.md#missing\n',
  });
  const dead = checkMarkdown(root, markdownFiles(root)).map((d) => `${d.file}:${d.line}: ${d.target} — ${d.reason}`);
  assert.deepEqual(dead.sort(), [
    'README.md:1: ../shared — mentions a document outside the repository',
    'README.md:1: DESIGN.md — mentions a document outside the repository',
    'README.md:1: MATH.md — mentions a document outside the repository',
    'README.md:2: docs/gone.md — no such file',
    'docs/guide.md:2: math.md#only-id — #only-id is not a heading of docs/math.md as typedoc slugs it (typedoc ignores explicit ids in links between documents)',
    'docs/guide.md:4: math.md#missing — no anchor #missing in docs/math.md',
    'docs/math.md:2: ../../elsewhere.md — leaves the repository',
    'docs/math.md:2: guide.md#no-such-heading — no anchor #no-such-heading in docs/guide.md',
    'docs/math.md:2: nothere.html — no such file',
  ]);
});

test('site: relative hrefs must exist and fragments must name an id', () => {
  const root = tree('site', {
    'api/index.html': '<a href="documents/Doc.html#notation">ok</a><a href="#top" id="top">ok</a><link href="assets/style.css"><a href="https://x.org/#y">ext</a>',
    'api/documents/Doc.html':
      '<h2 id="notation">N</h2><a href="../index.html">up</a><a href="Other.html">dead</a><a href="../index.html#nope">dead anchor</a><a href="../../../outside.html">out</a><p>See <a href="http://MATH.md">MATH.md</a> §6, <a href="https://example.md">a site</a></p>',
    'api/assets/style.css': '',
  });
  const dead = checkSite(root, join(root, 'api')).map((d) => `${d.file}: ${d.target} — ${d.reason}`);
  assert.deepEqual(dead.sort(), [
    'api/documents/Doc.html: ../../../outside.html — leaves the site',
    'api/documents/Doc.html: ../index.html#nope — no id "nope" in api/index.html',
    'api/documents/Doc.html: Other.html — no such file',
    'api/documents/Doc.html: http://MATH.md — the file name MATH.md became a web address (markdown linkify); cite a document of the site instead',
  ]);
});

test('every #anchor the project docs use exists, for GitHub and for typedoc', () => {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const files = markdownFiles(root);
  const anchors = markdownAnchors(readFileSync(join(root, 'docs/math.md'), 'utf8'));
  assert.ok(anchors.size > 40, `docs/math.md defines ${anchors.size} anchors`);
  for (const id of ['notation', 'pyramid', 'attention', 'theorems', 'low-rank', 'error-propagation', 'pipeline', 'floating-point']) {
    assert.ok(anchors.has(id), `docs/math.md lacks the stable anchor #${id}`);
  }
  const dead = checkMarkdown(root, files).filter((d) => d.reason.startsWith('no anchor') || d.reason.includes('typedoc'));
  assert.deepEqual(dead, []);
});
