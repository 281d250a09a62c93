// What the npm package rss-parser shows of each feed URL given: one JSON
// object per line, {"url", "items": [{"title", "link", "date", "source",
// "html"}]}, as feedparser_items.py prints.
const Parser = require('rss-parser');

const parser = new Parser({ customFields: { item: ['source', 'description'] } });

function sourceName(s) {
  if (!s) return '';
  if (typeof s === 'string') return s;             // RSS <source>: rss-parser keeps only its text
  if (s._ !== undefined && s.$ && s.$.url) return String(s._);  // RSS
  if (s.title) {                                    // Atom <source>
    const t = Array.isArray(s.title) ? s.title[0] : s.title;
    const id = s.id && (Array.isArray(s.id) ? s.id[0] : s.id);
    return id ? (typeof t === 'string' ? t : (t && t._) || '') : '';
  }
  return '';
}

(async () => {
  for (const url of process.argv.slice(2)) {
    let out;
    try {
      const feed = await parser.parseURL(url);
      out = {
        url,
        items: feed.items.map((i) => ({
          id: i.guid || i.id || '',
          title: i.title || '',
          link: i.link || '',
          date: !!(i.isoDate || i.pubDate),
          source: sourceName(i.source),
          html: /<[a-z][^>]*>/i.test(i.content || '') && (i.contentSnippet || '') !== (i.content || ''),
        })),
      };
    } catch (e) {
      out = { url, error: String(e), items: [] };
    }
    console.log(JSON.stringify(out));
  }
})();
