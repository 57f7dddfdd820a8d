"""Bulk 2.0's CSV reading: lines split across streamed chunks keep their endings."""

from __future__ import annotations

import csv

from connector.systems.salesforce.bulk import _lines


def test_csv_lines_keep_their_endings_across_chunks() -> None:
    chunks = iter(['Id,Desc\n1,"a\nb"\n2,', 'plain\r\n3,"x,y"', "\n"])
    assert list(csv.DictReader(_lines(chunks))) == [
        {"Id": "1", "Desc": "a\nb"}, {"Id": "2", "Desc": "plain"}, {"Id": "3", "Desc": "x,y"}]
