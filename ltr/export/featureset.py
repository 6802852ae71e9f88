"""The feature set an exported model needs in the engine: the Elasticsearch / OpenSearch LTR plugin's feature set
(``POST _ltr/_featureset/<name>``) or Solr's feature store (``PUT /schema/feature-store``).

A feature maps onto an engine query only where the engine computes the same thing. The one such feature of ltrkit's
feature layer is BM25 of a field with Lucene's IDF and statistics and each query term counted (``idf="lucene"``,
``doc_count="field"``, no ``k3``, ``qtf_norm="none"``): a ``match`` query on that field (Solr: ``edismax`` on that one
field, ``q.op=OR``), boosted by ``k1 + 1`` because Lucene's BM25 leaves that constant factor out (``BM25Similarity``:
``idf * freq / (freq + k1 * (1 - b + b * dl / avgdl))``). The index must give the field BM25 with the same ``k1`` and
``b`` and the same analysis; Lucene keeps document lengths in one byte, so the values agree closely, not bit for bit.
Every other feature (other scorers, BM25 variants, proximity, statistics, neural scores, anything without a description)
is written as a template to fill: an entry whose query is ``{"ltrkit_fill_in": {...}}`` (Solr: a class of that name),
which no engine can run until it is replaced, so that nothing guessed is ever scored. A feature the model never reads
(no split or non-zero weight uses it: a distilled student's teacher column, a feature no tree chose) is a constant
instead, since no value of it changes a score: ``match_none`` (Solr: a ``ValueFeature`` of 0), so that the engine
computes nothing for it and nothing is left to fill.

Which feature a column is comes from the model's feature-set description (its sidecar's ``feature_set``, the
``ltrkit-feature-set/1`` JSON that ``ltr features`` writes): entries with ``scorer``, ``fields``, ``name`` and
``effective`` parameters, the index's ``fields``, ``aliases`` and ``analyzer``, and the ``columns``. A BM25 entry
names its columns ``<name or "bm25">:<field>``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ltr.export.errors import ExportError

__all__ = ["FAMILIES", "describe_columns", "feature_set_definition", "read_feature_names"]

FAMILIES = ("es", "solr")
_FILL = "ltrkit_fill_in"


def _bm25_columns(description: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Column name -> {"field", "params", "why"} for the BM25 columns of a description (``why``: None when the
    column maps onto a match query, else the reason it does not)."""
    out = {}
    indexed = [f for f in description.get("fields") or [] if f not in (description.get("aliases") or {})]
    for entry in description.get("features") or []:
        if not isinstance(entry, Mapping) or entry.get("scorer") != "bm25":
            continue
        params = dict(entry.get("effective") or {})  # every parameter in effect (defaults filled in)
        fields = entry.get("fields")
        fields = indexed if fields in ("*", None) else list(fields)
        why = None
        if not all(k in params for k in ("k1", "b", "idf", "k3", "qtf_norm")):
            why = "the description does not give BM25's effective parameters (k1, b, idf, k3, qtf_norm)"
        elif params["idf"] != "lucene":
            why = f"BM25 with idf={params.get('idf')!r}: Lucene's BM25 uses the 'lucene' IDF"
        elif params["k3"] is not None:
            why = f"BM25 with k3={params.get('k3')!r}: a match query counts each query term once per occurrence"
        elif params["qtf_norm"] not in ("none", None):
            why = f"BM25 with qtf_norm={params.get('qtf_norm')!r}: a match query does not normalise query term counts"
        elif params.get("doc_count", "collection") != "field":  # absent: described before it was recorded
            why = ("BM25 counting every document of the collection (doc_count='collection', as every model trained "
                   "before ltrkit recorded doc_count): Lucene counts the documents with the field")
        base = entry.get("name") or "bm25"
        for f in fields:
            out[f"{base}:{f}"] = {"field": f, "params": params, "why": why, "parts": _joined(f, indexed)}
    return out


def _joined(field: str, indexed: Sequence[str]) -> list[str]:
    """The fields that ltrkit's combined field (``all``, :meth:`features.index.InvertedIndex.build`) joins, when
    ``field`` is it; else ``[]``."""
    return [f for f in indexed if f != field] if field == "all" and field in indexed and len(indexed) > 1 else []


def _joined_note(known: Mapping[str, Any], copy: str) -> str:
    """The words on a query of ltrkit's combined field: the engine's index needs a field of that name holding the
    others (without it the query matches nothing, and the feature is 0 or missing for every document; trial t64)."""
    parts = known.get("parts") or []
    if not parts:
        return ""
    return (f"; {known['field']!r} is ltrkit's field joining {', '.join(map(repr, parts))}: index a field of that name "
            f"holding their text ({copy})")


def describe_columns(names: Sequence[str], description: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """For each feature name, what is known of it: ``{"scorer": "bm25", "field", "params", "why"}`` for a BM25
    column of the description, ``{}`` otherwise."""
    if not description:
        return {n: {} for n in names}
    bm25 = _bm25_columns(description)
    return {n: dict(bm25[n], scorer="bm25") if n in bm25 else {} for n in names}


def _es_entry(name: str, known: Mapping[str, Any], notes: list[str], alias: bool, missing: str) -> dict[str, Any]:
    entry = {"name": name, "params": ["keywords"], "template_language": "mustache"}
    if known.get("scorer") == "bm25" and known.get("why") is None and not alias:
        k1, b = float(known["params"]["k1"]), float(known["params"]["b"])
        match = {"match": {known["field"]: {"query": "{{keywords}}", "boost": _plus_one(k1)}}}
        if missing == "zero":  # 0 where the match does not match, as in training, on every plugin version
            match = {"bool": {"should": [match, {"match_all": {"boost": 0.0}}]}}
        entry["template"] = match
        notes.append(f"{name!r}: a match query on {known['field']!r} boosted by k1 + 1 = {_plus_one(k1)!r}"
                     + (", beside a match_all of boost 0 (a document it does not match gets 0, as in training, "
                        "where newer plugins give no value)" if missing == "zero" else "")
                     + f"; give the field the similarity {{\"type\": \"BM25\", \"k1\": {k1!r}, \"b\": {b!r}}} and "
                     "the analysis the model was trained with" + _joined_note(known, "copy_to in the mapping"))
        return entry
    entry["template"] = {_FILL: _why(name, known, alias)}
    return entry


def _plus_one(k1: float) -> float:
    """``k1 + 1`` as the decimal sum of the two (k1 1.2345678: 2.2345678, where the float sum is 2.2345677999999998;
    the engines keep a boost as a float32, which is the same for both)."""
    from decimal import Decimal

    return float(Decimal(repr(float(k1))) + 1)


def _why(name: str, known: Mapping[str, Any], alias: bool) -> dict[str, Any]:
    if alias:
        reason = (f"{known['field']!r} is an ltrkit alias (a concatenation of fields): index it as one field "
                  "(copy_to) and query that")
    elif known.get("why"):
        reason = known["why"] + "; no engine query computes it exactly"
    else:
        reason = "no engine query computes this ltrkit feature exactly: write the query that does"
    out: dict[str, Any] = {"ltrkit_feature": name, "reason": reason}
    if known.get("params"):
        out["scorer"] = known.get("scorer")
        out["params"] = known["params"]
    return out


def _solr_entry(name: str, known: Mapping[str, Any], store: str, notes: list[str], alias: bool) -> dict[str, Any]:
    if known.get("scorer") == "bm25" and known.get("why") is None and not alias:
        k1, b = float(known["params"]["k1"]), float(known["params"]["b"])
        notes.append(f"{name!r}: edismax on {known['field']!r} boosted by k1 + 1 = {_plus_one(k1)!r}; give the field "
                     f"BM25SimilarityFactory with k1={k1!r}, b={b!r} and the analysis the model was trained with"
                     + _joined_note(known, "copyField in the schema"))
        return {"store": store, "name": name, "class": "org.apache.solr.ltr.feature.SolrFeature",
                "params": {"q": f"{{!edismax qf={known['field']}^{_plus_one(k1)!r} q.op=OR}}${{keywords}}"}}
    return {"store": store, "name": name, "class": _FILL, "params": _why(name, known, alias)}


def _one_similarity_per_field(names: Sequence[str], known: dict, aliases: set) -> None:
    """A field has one BM25 similarity in the engine: the first BM25 feature of a field maps to a query on it, a
    later one with other k1 or b becomes a template (the query would compute the first one's BM25, not its own)."""
    first: dict[str, tuple[str, float, float]] = {}
    for n in names:
        k = known.get(n) or {}
        if k.get("scorer") != "bm25" or k.get("why") is not None or k.get("field") in aliases:
            continue
        k1, b = float(k["params"]["k1"]), float(k["params"]["b"])
        other = first.setdefault(k["field"], (n, k1, b))
        if (other[1], other[2]) != (k1, b):
            known[n] = {**k, "why": (f"{k['field']!r} has one BM25 similarity in the engine, set for {other[0]!r} "
                                     f"(k1 {other[1]:g}, b {other[2]:g}); this feature's k1 {k1:g}, b {b:g} needs "
                                     "another field with that similarity (a copy of it)")}


def feature_set_definition(names: Sequence[str], family: str, *, description: Mapping[str, Any] | None = None,
                           name: str = "ltrkit", unused: Sequence[str] = (), missing: str = "zero"
                           ) -> tuple[str, list[str]]:
    """The engine's feature-set definition for ``names`` (in order) as JSON text, and notes on what was mapped.

    Parameters
    ----------
    names : sequence of str
        The features, in the order of the engine's feature set (an exported model's ``feature_names``).
    family : {"es", "solr"}
        Elasticsearch / OpenSearch LTR plugin, or Solr.
    description : mapping, optional
        The model's feature-set description (``ltrkit-feature-set/1``); without it every feature is a template.
    name : str
        The feature set's (Solr: the store's) name.
    unused : sequence of str
        Features the model never reads: written as constants, not as queries or templates.
    missing : {"zero", "nan"}, default="zero"
        Where the exported model sends a missing value. Solr gives a feature that does not match its
        ``defaultValue``, 0 unless set: with ``"nan"`` every feature's is NaN, so that the model's missing
        branches are reached (the plugin's value for no match is NaN already). With ``"zero"``, the plugin's BM25
        queries carry a ``match_all`` of boost 0 beside the ``match``, so that a document the match does not
        match gets 0 on every plugin version (the older ones give 0, the newer no value, NaN, which OpenSearch LTR
        3.2 to 3.7 send down each node's ``no`` branch whatever the model says).

    Examples
    --------
    >>> text, notes = feature_set_definition(["bm25:title", "pagerank"], "es", description={
    ...     "features": [{"scorer": "bm25", "fields": ["title"], "name": None, "effective": {"k1": 1.2, "b": 0.75,
    ...                   "idf": "lucene", "k3": None, "qtf_norm": "none", "doc_count": "field"}}],
    ...     "fields": ["title"]})
    >>> [f["template"] for f in json.loads(text)["featureset"]["features"]][0]  # doctest: +NORMALIZE_WHITESPACE
    {'bool': {'should': [{'match': {'title': {'query': '{{keywords}}', 'boost': 2.2}}},
                         {'match_all': {'boost': 0.0}}]}}
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    constant = set(unused)
    known = describe_columns([n for n in names if n not in constant], description)
    aliases = set((description or {}).get("aliases") or {})
    _one_similarity_per_field(list(known), known, aliases)
    notes: list[str] = []
    if family == "es":
        feats = [{"name": n, "params": ["keywords"], "template_language": "mustache", "template": {"match_none": {}}}
                 if n in constant else _es_entry(n, known[n], notes, known[n].get("field") in aliases, missing)
                 for n in names]
        out: Any = {"featureset": {"name": name, "features": feats}}
    else:
        out = [{"store": name, "name": n, "class": "org.apache.solr.ltr.feature.ValueFeature", "params": {"value": 0}}
               if n in constant else _solr_entry(n, known[n], name, notes, known[n].get("field") in aliases)
               for n in names]
        if any(e["class"] == "org.apache.solr.ltr.feature.SolrFeature" for e in out):
            notes.append("edismax reads ${keywords} as query syntax ('-dash' excludes dash, 'a:b' queries field a, "
                         "'?' and '*' are wildcards, '/x/' a regex): escape the user's text before it is passed as "
                         "efi.keywords (SolrJ's ClientUtils.escapeQueryChars), or the BM25 features are not the "
                         "model's for such queries")
        if missing == "nan":  # Feature.defaultValue is 0.0f: the model's missing branches would never be reached
            for entry in out:
                if entry["class"] != "org.apache.solr.ltr.feature.ValueFeature":
                    entry["params"] = {**entry["params"], "defaultValue": "NaN"}
            notes.append("every feature has defaultValue NaN: a document a feature's query does not match goes down "
                         "the model's missing branches, as a missing value did in training")
    analysis = _analysis_words((description or {}).get("analyzer"))
    if analysis and any(k.get("scorer") == "bm25" and not k.get("why") for k in known.values()):
        default = ("Elasticsearch's default standard analyzer keeps stop words and does not stem" if family == "es"
                   else "a Solr text field type's tokenizer and filters differ from it unless set so")
        notes.append(f"the model's analysis was {analysis}: give the fields of the BM25 queries an analyzer that "
                     f"does the same ({default}), or their BM25 values are not the model's; even then they agree "
                     "closely, not bit for bit (the engines keep document lengths in one byte)")
    if constant:
        shown = [n for n in names if n in constant]
        notes.append(f"{len(shown)} of {len(names)} features are read by no part of the model and are written as "
                     f"constants ({'match_none' if family == 'es' else 'ValueFeature 0'}; no value of them changes a "
                     f"score): {', '.join(shown[:5])}{', ...' if len(shown) > 5 else ''}")
    n_fill = sum(1 for n in known if not known[n] or known[n].get("why") or known[n].get("field") in aliases)
    if n_fill:
        # (the value ltr features gives only where the model was trained on its output: trial t71)
        given = ("ltr features gives such a document (0 for term counts and BM25-like scores, not for proximity "
                 "spans or language models)" if description else "the training data gives such a document")
        notes.append(f"{n_fill} of {len(names)} features are templates to fill ('{_FILL}'): no engine query computes "
                     "them exactly" + (f"; a query you write must give a document it does not match the value "
                                       f"{given}, not leave it without one"
                                       if missing == "zero" and family == "es" else ""))
    return json.dumps(out, indent=1) + "\n", notes


def _analysis_words(analyzer: Any) -> str:
    """The analysis of a feature-set description (``Analyzer.to_dict``) in a few words, or ``""``."""
    if not isinstance(analyzer, Mapping) or "token_pattern" not in analyzer:
        return ""
    a = analyzer
    stop = a.get("stopwords") or []
    stop_name = a.get("stopwords_name")
    # every setting that changes the terms, as the index applied them (features.analysis.Analyzer): an engine
    # analyzer built from fewer (no NFKC, no length limits) gives other BM25 values on the texts they touch
    words = [f"{a['normalize']}-normalised" if a.get("normalize") else "no Unicode normalisation",
             f"tokens {a['token_pattern']}" + (" with combining marks inside" if a.get("keep_marks") else "")
             + (", each Han ideograph and Hiragana character a token" if a.get("split_cjk") else ""),
             "lowercased" if a.get("lowercase") else "case kept"]
    if int(a.get("min_length", 1) or 0) > 1:
        words.append(f"tokens under {a['min_length']} characters dropped")
    if int(a.get("max_length", 0) or 0) > 0:
        words.append(f"tokens over {a['max_length']} characters dropped")
    if int(a.get("max_digits", -1)) >= 0:
        words.append(f"tokens of more than {a['max_digits']} digits dropped")
    if int(a.get("max_repeat", -1)) >= 0:
        words.append(f"tokens repeating a character more than {a['max_repeat']} times in a row dropped")
    words.append((f"{stop_name} stop words ({len(stop)})" if stop_name else f"{len(stop)} stop words") if stop
                 else "no stop words")
    if a.get("stemmer"):
        shortest = int(a.get("min_stem_length", 1) or 0)
        words.append(f"{a['stemmer']} stemming" + (f" of tokens of {shortest} characters or more" if shortest > 1
                                                    else ""))
    else:
        words.append("no stemming")
    return ", ".join(words)


def _names_of(obj: Any) -> list | None:
    """The feature names of a parsed JSON feature set, in order, or None when it is not one."""
    if isinstance(obj, Mapping):
        for key in ("_source", "featureset", "features"):  # GET responses, POST bodies, Solr {"features": [...]}
            if key in obj:
                return _names_of(obj[key])
        return None
    if isinstance(obj, list) and all(isinstance(f, Mapping) and isinstance(f.get("name"), str) for f in obj):
        return [f["name"] for f in obj]
    return None


def read_feature_store(path: str | os.PathLike, what: str = "the feature set") -> tuple[list[str], str | None]:
    """:func:`read_feature_names`'s names, and the Solr feature store they belong to: the ``store`` each entry of a
    Solr feature store JSON names (``GET /schema/feature-store/<store>``), None for any other file or entries
    naming none. A Solr model names its store, and one naming another store than its features' finds none of them.

    Raises
    ------
    ExportError
        As :func:`read_feature_names`; or entries naming different stores (the file then is no one store's list).
    """
    names = read_feature_names(path, what)
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8-sig"))  # as read above (a BOM's store was lost; t62)
    except ValueError:  # plain text, read above
        return names, None
    while isinstance(obj, Mapping) and "features" in obj and "featureset" not in obj and "_source" not in obj:
        obj = obj["features"]
    if not isinstance(obj, list):
        return names, None
    stores = list(dict.fromkeys(f["store"] for f in obj if isinstance(f.get("store"), str)))
    if len(stores) > 1:
        raise ExportError(f"{path} ({what}): its features belong to {len(stores)} Solr feature stores "
                          f"({', '.join(map(repr, stores[:4]))}{', ...' if len(stores) > 4 else ''}); give one "
                          "store's features (GET /schema/feature-store/<store>)")
    return names, (stores[0] if stores else None)


def read_feature_names(path: str | os.PathLike, what: str = "the feature set") -> list[str]:
    """The feature names of an engine's feature set, in order, from a file: the plugin's feature set JSON (a
    ``POST _ltr/_featureset`` body or its ``GET`` response), a Solr feature store JSON (a list of features), or
    plain text with one name per line (a line of ``#`` and words, ``# my features``, or ``#`` alone, is a comment;
    ``#inlinks``, one word, is refused: a comment or a name, either way a shift of every later position if taken
    wrongly). ``what`` the file is, in an error.

    Raises
    ------
    ExportError
        The file is unreadable, or neither kind (naming the file and, for text, the line).
    """
    from ltr.exceptions import FileFormatError
    from ltr.io.files import refuse_inner_bom

    path = Path(path)
    try:
        # a leading byte-order mark dropped, as every reader here drops it (Notepad, PowerShell 5): kept, the first
        # name was '\ufefff1', which the plugin refuses as an unknown feature and Solr scores as 0 (trial t62)
        raw = path.read_text(encoding="utf-8-sig")
        refuse_inner_bom(raw, path, holder="name")
    except FileFormatError as e:
        raise ExportError(f"{path}:{e.line} ({what}): {e.reason}") from None
    except OSError as e:
        why = {FileNotFoundError: "no such file", IsADirectoryError: "is a folder, not a file"}.get(
            type(e), (e.strerror or str(e)).lower())
        raise ExportError(f"{path} ({what}): {why}") from None
    except UnicodeDecodeError as e:
        raise ExportError(f"{path} ({what}): not UTF-8 text ({e.reason} at byte {e.start})") from None
    head = raw.lstrip()[:1]
    if head in ("{", "["):
        try:
            names = _names_of(json.loads(raw))
        except json.JSONDecodeError as e:
            raise ExportError(f"{path}:{e.lineno}: not valid JSON ({e.msg}); a file beginning with '{head}' is read "
                              "as JSON (a plain list whose first name begins so: give the names as a JSON list)"
                              ) from None
        if not names:
            raise ExportError(f"{path}: not a feature set (expected the plugin's featureset JSON, with 'features', "
                              "or a list of Solr features, each with a 'name')")
        return names
    names = []
    for i, line in enumerate(raw.splitlines(), 1):
        s = line.strip()
        if not s or (s.startswith("#") and (s == "#" or any(c.isspace() for c in s))):
            continue  # a comment: '#' alone or with words
        if s.startswith("#"):  # '#inlinks' (a name) or '#-----' (a comment)? Either way taken, a mistake moves every
            # later name's position, es-ranklib's ids (trial t54: scores off by 0.86 one way, its review the other)
            raise ExportError(f"{path}:{i}: {s!r} begins with '#' and holds no space: a comment or a name, which a "
                              "plain list cannot tell; write a comment as '# words', a name beginning with '#' in a "
                              "JSON list (or the plugin's featureset JSON)")
        if any(c.isspace() for c in s):
            raise ExportError(f"{path}:{i}: a feature name has no spaces or tabs (one name per line; token {s!r})")
        names.append(s)
    if not names:
        raise ExportError(f"{path}: no feature names")
    return names
