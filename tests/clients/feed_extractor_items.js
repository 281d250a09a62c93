// What the npm package @extractus/feed-extractor (RSS, Atom and JSON Feed)
// shows of each feed URL given: one JSON object per line, as
// feedparser_items.py prints. Raw fields are kept so that the title, the
// body as HTML and the source credit are read as the client reads them.
const { extract } = require('@extractus/feed-extractor');

const raw = (entry) => ({
  rawTitle: entry.title,
  rawContent: entry.content_html ?? entry['content:encoded'] ?? entry.content ?? entry.description ?? '',
  rawSource: entry._tributary?.source ?? entry.source ?? null,
});

function text(v) {
  if (v == null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return String(v['#text'] ?? v._ ?? '');
  return String(v);
}

function source(s) {
  if (!s) return '';
  if (s.title && (s.feed_url || s.site_url || s.id)) return text(s.title);  // JSON Feed / Atom
  if (s['@_url']) return text(s);                                           // RSS <source url>
  return '';
}

(async () => {
for (const url of process.argv.slice(2)) {
  let out;
  try {
    const feed = await extract(url, { descriptionMaxLen: 0, getExtraEntryFields: raw });
    out = {
      url,
      items: (feed.entries || []).map((e) => ({
        id: e.id || '',
        title: e.title || '',
        link: e.link || '',
        date: !!e.published,
        source: source(e.rawSource),
        html: /<[a-z][^>]*>/i.test(text(e.rawContent)),
      })),
    };
  } catch (err) {
    out = { url, error: String(err), items: [] };
  }
  console.log(JSON.stringify(out));
}
})();
