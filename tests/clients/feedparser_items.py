"""What Python feedparser shows of each feed URL given: one JSON object per
line, {"url", "bozo", "items": [{"id", "title", "link", "date", "source",
"html"}]}.

"source" is the feed the item names as its origin (Atom <source> or RSS
<source>), "html" whether the client takes the body as HTML.
"""
import json
import sys

import feedparser

for url in sys.argv[1:]:
    d = feedparser.parse(url)
    items = []
    for e in d.entries:
        src = e.get("source") or {}
        body = (e.get("content") or [{}])[0]
        if not body:
            body = e.get("summary_detail") or {}
        items.append({
            "id": e.get("id", ""),
            "title": e.get("title", ""),
            "link": e.get("link", ""),
            "date": bool(e.get("published_parsed") or e.get("updated_parsed")),
            "source": src.get("title", "") if src.get("href") or src.get("id") else "",
            "html": body.get("type") == "text/html",
        })
    print(json.dumps({"url": url, "bozo": bool(d.bozo), "error": str(d.get("bozo_exception", "")), "items": items}))
