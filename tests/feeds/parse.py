"""Parses the Atom feed on stdin with feedparser (the parser feed readers
build on) and prints what it read as JSON: whether the feed was well formed
(`bozo`), its version, title and entries."""

import json
import sys

import feedparser

feed = feedparser.parse(sys.stdin.buffer.read())
print(
    json.dumps(
        {
            "bozo": int(feed.bozo),
            "problem": str(feed.get("bozo_exception", "")),
            "version": feed.version,
            "id": feed.feed.get("id"),
            "title": feed.feed.get("title"),
            "updated": feed.feed.get("updated"),
            "entries": [
                {
                    "id": entry.get("id"),
                    "title": entry.get("title"),
                    "updated": entry.get("updated"),
                    "link": entry.get("link"),
                }
                for entry in feed.entries
            ],
        }
    )
)
