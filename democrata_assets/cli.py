"""`democrata`: run the pipeline against the Dagster instance, search and ask from the shell.

`democrata run` registers each source's partitions and materialises them through the same jobs the
UI launches, recorded in $DAGSTER_HOME, so every run shows up in `dagster dev` afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import time
import warnings

from tqdm import tqdm

DEMO_QUERIES = [
    ("Marine and Coastal Access Bill report stage", {}),
    ("future of the Territorial Army", {"house": "commons"}),
    ("coroners inquests and juries", {"house": "lords"}),
    ("child poverty targets", {}),
    ("Non-Domestic Rating Bill second reading vote", {"source": "commons_votes"}),
    ("Constitutional Reform and Governance Bill", {"source": "uk_bills"}),
    ("convenio económico con Navarra", {"language": "es"}),
]


def _settings():
    from democrata_core.settings import get_settings

    return get_settings()


def cmd_run(args: argparse.Namespace) -> int:
    from dagster import DagsterInstance

    from democrata_assets.definitions import PIPELINES, defs

    instance = DagsterInstance.get()
    names = args.source or list(PIPELINES)
    failures = 0
    for name in names:
        pipeline = PIPELINES[name]
        resources = defs.resources
        connector = resources["sources"].connector(pipeline.connector_cls)
        keys = args.partition or connector.list_partitions()
        if args.latest:
            keys = keys[-args.latest :]
        existing = set(instance.get_dynamic_partitions(pipeline.partitions.name))
        instance.add_dynamic_partitions(pipeline.partitions.name, [k for k in keys if k not in existing])
        job = defs.resolve_job_def(pipeline.job.name)
        bar = tqdm(keys, desc=f"{name:>14}", unit="partition", file=sys.stderr)
        for key in bar:
            bar.set_postfix_str(key)
            started = time.perf_counter()
            result = job.execute_in_process(
                partition_key=key,
                instance=instance,
                raise_on_error=False,
                # The full event log is in the instance (see the UI); the terminal gets warnings.
                run_config={"loggers": {"console": {"config": {"log_level": args.log_level}}}},
            )
            if not result.success:
                failures += 1
                tqdm.write(
                    f"FAILED {name}/{key} (run {result.run_id}); see `dagster dev` run logs", file=sys.stderr
                )
                continue
            meta = {}
            for event in result.get_asset_materialization_events():
                mat = event.event_specific_data.materialization
                meta[mat.asset_key.path[-1]] = {k: v.value for k, v in mat.metadata.items()}
            tqdm.write(
                f"✓ {name}/{key}: {meta.get('cleaned', {}).get('documents', 0)} records, "
                f"{meta.get('cleaned', {}).get('quarantined', 0)} quarantined, "
                f"{meta.get('index', {}).get('index_count', 0)} chunks indexed "
                f"({time.perf_counter() - started:.1f}s)",
                file=sys.stderr,
            )
    return 1 if failures else 0


def _retriever():
    from democrata_core.embedding import build_embedder
    from democrata_core.index import ChunkIndex, connect
    from democrata_core.retrieval import Retriever

    settings = _settings()
    client = connect(settings)
    return client, Retriever(ChunkIndex(client, settings.collection), build_embedder(settings))


def _filters(args: argparse.Namespace, **extra):
    from democrata_core.index import SearchFilters

    values = {
        "house": getattr(args, "house", None),
        "source": getattr(args, "source_filter", None),
        "speaker": getattr(args, "speaker", None),
        "kind": getattr(args, "kind", None),
        "language": getattr(args, "language", None),
        "date_from": dt.date.fromisoformat(args.date_from) if getattr(args, "date_from", None) else None,
        "date_to": dt.date.fromisoformat(args.date_to) if getattr(args, "date_to", None) else None,
    }
    values.update(extra)
    return SearchFilters(**{k: v for k, v in values.items() if v is not None})


def _print_hits(query: str, hits) -> None:
    print(f"\n=== {query}")
    if not hits:
        print("  (no results)")
    for h in hits:
        who = h.speaker or h.title or h.kind
        print(f"  {h.rank}. [{h.score:.3f}] {who} — {h.house}, {h.date}: {h.heading}")
        print(f"     {h.text[:220].replace(chr(10), ' ')}{'…' if len(h.text) > 220 else ''}")
        print(f"     cite: {h.native_id}  {h.url}")
        for link in h.links[:3]:
            target = link.resolved_native_id or link.target or ""
            print(f"     ↳ {link.rel}: {link.label} {target}")
        if len(h.links) > 3:
            print(f"     ↳ … and {len(h.links) - 3} more links")


def cmd_search(args: argparse.Namespace) -> int:
    client, retriever = _retriever()
    with client:
        _print_hits(args.query, retriever.search(args.query, _filters(args), limit=args.limit))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from democrata_core.answer import extractive_answer

    client, retriever = _retriever()
    with client:
        hits = retriever.search(args.query, _filters(args), limit=args.limit)
    answer = extractive_answer(args.query, hits)
    print(answer.answer)
    for c in answer.citations:
        print(f"  [{c.n}] {c.speaker or ''} {c.house} {c.date} {c.heading} — {c.native_id} {c.url}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    status = cmd_run(args)
    client, retriever = _retriever()
    with client:
        for query, filters in DEMO_QUERIES:
            _print_hits(query, retriever.search(query, _filters(args, **filters), limit=3))
    return status


def cmd_quarantine(args: argparse.Namespace) -> int:
    from democrata_core.storage import build_landing_zone

    records = build_landing_zone(_settings()).read_quarantine(args.source_filter)
    for r in records:
        print(f"{r.source}/{r.partition_key} {r.file}:{r.line or '-'} {r.reason}")
    print(f"{len(records)} quarantined records")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Dagster's own deprecation notices are for us, not for someone running the pipeline.
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    parser = argparse.ArgumentParser(prog="democrata", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def add_run_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--source", action="append", help="source name (repeatable); default: all")
        p.add_argument("--partition", action="append", help="partition key (repeatable); default: all listed")
        p.add_argument("--latest", type=int, help="only the latest N partitions of each source")
        p.add_argument(
            "--log-level", default="WARNING", help="Dagster console log level (INFO shows progress)"
        )

    def add_filter_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("query")
        p.add_argument("--limit", type=int, default=5)
        p.add_argument("--house")
        p.add_argument("--speaker")
        p.add_argument("--kind")
        p.add_argument("--language")
        p.add_argument("--source", dest="source_filter")
        p.add_argument("--date-from")
        p.add_argument("--date-to")

    p = sub.add_parser("run", help="materialise partitions through the Dagster jobs")
    add_run_args(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("demo", help="run the pipeline on the bundled mirror, then print example searches")
    add_run_args(p)
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("search", help="hybrid search with filters")
    add_filter_args(p)
    p.set_defaults(func=cmd_search)
    p = sub.add_parser("ask", help="an answer with citations (extractive unless an LLM is configured)")
    add_filter_args(p)
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("quarantine", help="list quarantined records")
    p.add_argument("--source", dest="source_filter")
    p.set_defaults(func=cmd_quarantine)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
