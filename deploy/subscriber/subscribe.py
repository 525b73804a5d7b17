#!/usr/bin/env python3
"""An outside subscriber for Renda's events: reads a topic with kafka-python and checks the contract.

    bash deploy/subscriber/run.sh [--topic renda.330521.suggestion] \
        [--expect-type renda.suggestion.v1.SuggestionSubmitted] [--expect-min 1] [--timeout 30]

Nothing from the Rust workspace is used: the payload is decoded with Python classes generated
from the published proto/ tree (grpcio-tools' bundled protoc, cached in .run/subscriber/gen),
so this is what an agency system subscribing to the event contract (design §4 "Events") would see.

For every record on the topic it checks the CloudEvents 1.0 Kafka binding, binary mode:
  ce_specversion "1.0"; ce_id a UUIDv7; ce_source "/renda/<county>/<service>" of the topic;
  ce_type the full name of a message declared in proto/renda/<area>/v1/events.proto (looked up
  in the protobuf descriptor pool, no table); ce_time RFC 3339; ce_subject equal to the
  record key; ce_county the topic's county; content-type application/protobuf; a W3C
  traceparent; and a non-empty payload that parses as the ce_type message.

Each valid event goes to stdout as one JSON line (record coordinates, headers, payload as
protobuf JSON); problems and the summary go to stderr.

Reading stops at --timeout, or earlier once the partitions are read up to the end offsets seen
at start (with --from-beginning) and the expectation is met. It uses a fresh random consumer
group and commits no offsets.

Exit status: 0 when every record is valid and the expectation is met; 1 when a record breaks
the contract or fewer than --expect-min events of --expect-type were seen; 2 when the check
could not run (bad arguments, protoc failure, broker unreachable, topic missing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib
import json
import logging
import re
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

REQUIRED_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "ce_county",
    "content-type",
    "traceparent",
)
TOPIC_RE = re.compile(r"^renda\.([0-9]{6})\.([a-z][a-z0-9-]*)$")
RFC3339_RE = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?"
    r"([Zz]|[+-]([0-9]{2}):([0-9]{2}))$"
)
TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
EVENTS_FILE_RE = re.compile(r"^renda/[a-z0-9_]+/v[0-9]+/events\.proto$")


class SetupError(Exception):
    """The check could not run (exit 2)."""


def say(msg: str) -> None:
    print(f"subscriber: {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ protos


def compile_protos(proto_root: Path, gen_root: Path) -> tuple[Path, list[str]]:
    """Compiles every .proto under proto_root/renda with grpcio-tools' protoc into a cache
    directory keyed by the proto sources and the tool versions; returns (dir, module names)."""
    import google.protobuf
    import grpc_tools
    from grpc_tools import protoc

    files = sorted(p for p in (proto_root / "renda").rglob("*.proto") if p.is_file())
    if not files:
        raise SetupError(f"no .proto files under {proto_root / 'renda'}")
    rel = [p.relative_to(proto_root).as_posix() for p in files]
    modules = [r[: -len(".proto")].replace("/", ".") + "_pb2" for r in rel]

    from importlib.metadata import version

    key = hashlib.sha256()
    key.update(f"grpcio-tools {version('grpcio-tools')} protobuf {google.protobuf.__version__}\n".encode())
    for r, p in zip(rel, files):
        key.update(f"{r}\n".encode())
        key.update(hashlib.sha256(p.read_bytes()).digest())
    target = gen_root / key.hexdigest()[:16]
    if (target / ".complete").is_file():
        return target, modules

    gen_root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=gen_root))
    try:
        include = Path(grpc_tools.__file__).parent / "_proto"  # google/protobuf/*.proto
        args = ["grpc_tools.protoc", f"-I{proto_root}", f"-I{include}", f"--python_out={tmp}", *map(str, files)]
        rc = protoc.main(args)
        if rc != 0:
            raise SetupError(f"protoc (grpcio-tools {version('grpcio-tools')}) failed with status {rc} on {proto_root}/renda")
        (tmp / ".complete").write_text("\n".join(rel) + "\n")
        try:
            tmp.rename(target)
            say(f"compiled {len(files)} protos from {proto_root}/renda into {target}")
        except OSError:
            if not (target / ".complete").is_file():  # not a concurrent run that won the race
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # Drop generations of older proto trees, and temp dirs abandoned more than an hour ago.
    for old in gen_root.iterdir():
        if old == target or not old.is_dir():
            continue
        if not old.name.startswith(".tmp-") or time.time() - old.stat().st_mtime > 3600:
            shutil.rmtree(old, ignore_errors=True)
    return target, modules


def load_event_types(gen_dir: Path, modules: list[str]):
    """Imports the generated modules (registering them in the default descriptor pool)."""
    sys.path.insert(0, str(gen_dir))
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 - any import failure means the check cannot run
            raise SetupError(f"importing generated module {name} from {gen_dir} failed: {e}") from e


def message_class(full_name: str):
    """The message class for a protobuf full name declared in some renda/<area>/v1/events.proto,
    looked up in the default descriptor pool. Raises LookupError with the reason otherwise."""
    from google.protobuf import descriptor_pool, message_factory

    try:
        desc = descriptor_pool.Default().FindMessageTypeByName(full_name)
    except KeyError:
        raise LookupError(f"'{full_name}' is not a message type in proto/renda") from None
    if not EVENTS_FILE_RE.match(desc.file.name) or desc.containing_type is not None:
        raise LookupError(
            f"'{full_name}' is declared in {desc.file.name}, not a top-level message of a renda/<area>/v1/events.proto"
        )
    return message_factory.GetMessageClass(desc)


# ------------------------------------------------------------------ checks


def check_rfc3339(value: str) -> str | None:
    m = RFC3339_RE.match(value)
    if not m:
        return "is not an RFC 3339 date-time"
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    try:
        dt.datetime(y, mo, d, h, mi, min(s, 59))  # 60 is a leap second
    except ValueError as e:
        return f"is not a valid RFC 3339 date-time ({e})"
    if s > 60 or (m.group(9) and (int(m.group(9)) > 23 or int(m.group(10)) > 59)):
        return "is not a valid RFC 3339 date-time"
    return None


def check_traceparent(value: str) -> str | None:
    m = TRACEPARENT_RE.match(value)
    if not m:
        return "is not a W3C traceparent (version-traceid-parentid-flags, lowercase hex)"
    ver, trace_id, parent_id, _, rest = m.groups()
    if ver == "ff":
        return "has the forbidden version ff"
    if ver == "00" and rest:
        return "has extra fields after the flags for version 00"
    if trace_id == "0" * 32:
        return "has an all-zero trace id"
    if parent_id == "0" * 16:
        return "has an all-zero parent id"
    return None


def check_record(record, county: str, service: str):
    """Returns (event dict, message type name, errors, warnings) for one Kafka record."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError

    errors: list[str] = []
    warnings: list[str] = []
    headers: dict[str, str] = {}
    for name, raw in record.headers or []:
        try:
            value = raw.decode("utf-8") if raw is not None else None
        except UnicodeDecodeError:
            errors.append(f"header {name} is not UTF-8")
            continue
        if name in headers:
            errors.append(f"header {name} appears more than once")
        headers[name] = value

    try:
        key = record.key.decode("utf-8") if record.key is not None else None
    except UnicodeDecodeError:
        key = None
        errors.append("record key is not UTF-8")

    missing = [h for h in REQUIRED_HEADERS if not headers.get(h)]
    if missing:
        errors.append("missing or empty header(s): " + ", ".join(missing))

    def header(name: str) -> str | None:
        return headers.get(name) or None

    if (v := header("ce_specversion")) is not None and v != "1.0":
        errors.append(f"ce_specversion is {v!r}, want '1.0'")
    if (v := header("ce_id")) is not None:
        try:
            u = uuid.UUID(v)
            if str(u) != v:
                errors.append(f"ce_id {v!r} is not a canonical lowercase UUID")
            elif u.version != 7:
                errors.append(f"ce_id {v!r} is a UUID version {u.version}, want a UUIDv7")
        except ValueError:
            errors.append(f"ce_id {v!r} is not a UUID")
    want_source = f"/renda/{county}/{service}"
    if (v := header("ce_source")) is not None and v != want_source:
        errors.append(f"ce_source is {v!r}, want {want_source!r} for this topic")
    if (v := header("ce_time")) is not None and (why := check_rfc3339(v)):
        errors.append(f"ce_time {v!r} {why}")
    if (v := header("ce_subject")) is not None and v != key:
        errors.append(f"ce_subject {v!r} differs from the record key {key!r}")
    if (v := header("ce_county")) is not None and v != county:
        errors.append(f"ce_county is {v!r}, want {county!r} (the topic's county)")
    if (v := header("content-type")) is not None and v.split(";")[0].strip().lower() != "application/protobuf":
        errors.append(f"content-type is {v!r}, want 'application/protobuf'")
    if (v := header("traceparent")) is not None and (why := check_traceparent(v)):
        errors.append(f"traceparent {v!r} {why}")

    payload = None
    ce_type = header("ce_type")
    if ce_type is not None:
        try:
            cls = message_class(ce_type)
        except LookupError as e:
            errors.append(f"ce_type: {e}")
            cls = None
        if cls is not None:
            if not record.value:
                errors.append(f"empty payload (a {ce_type} event carries at least its ids)")
            else:
                try:
                    msg = cls.FromString(record.value)
                except DecodeError as e:
                    errors.append(f"payload does not parse as {ce_type}: {e}")
                else:
                    try:
                        from google.protobuf.unknown_fields import UnknownFieldSet

                        unknown = sorted({f.field_number for f in UnknownFieldSet(msg)})
                    except Exception:  # noqa: BLE001 - the check is best effort
                        unknown = []
                    if unknown:
                        # Compatible evolution allows it, but this checkout's protos should know every field.
                        warnings.append(f"payload has fields unknown to proto/ {ce_type}: {unknown}")
                    payload = json_format.MessageToDict(msg, always_print_fields_with_no_presence=True)

    event = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": (
            dt.datetime.fromtimestamp(record.timestamp / 1000, dt.timezone.utc).isoformat(timespec="milliseconds")
            if record.timestamp is not None and record.timestamp >= 0
            else None
        ),
        "key": key,
        "headers": headers,
        "payload": payload,
    }
    return event, ce_type, errors, warnings


# ------------------------------------------------------------------ main


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Read a renda.<county>.<service> topic as an outside subscriber and check the event contract.",
    )
    p.add_argument("--brokers", default="127.0.0.1:9092", help="comma list of host:port (default %(default)s)")
    p.add_argument("--topic", default="renda.330521.suggestion", help="topic to read (default %(default)s)")
    p.add_argument(
        "--from-beginning",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start at the earliest offset (default); --no-from-beginning waits for new events only",
    )
    p.add_argument("--timeout", type=float, default=30.0, help="seconds to read at most (default %(default)s)")
    p.add_argument("--expect-type", help="protobuf full name, e.g. renda.suggestion.v1.SuggestionSubmitted")
    p.add_argument(
        "--expect-min",
        type=int,
        help="fail unless at least N valid events (of --expect-type, if given) were seen; "
        "--expect-type alone means 1",
    )
    p.add_argument(
        "--api-version",
        help="Kafka API version to assume, e.g. 2.8 (default: ask the broker; works with tansu 0.6)",
    )
    p.add_argument("--proto-root", type=Path, default=REPO_ROOT / "proto", help="include root of the protos")
    p.add_argument(
        "--gen-dir", type=Path, default=REPO_ROOT / ".run" / "subscriber" / "gen", help="cache of generated code"
    )
    p.add_argument("-v", "--verbose", action="count", default=0, help="kafka-python logging (-v info, -vv debug)")
    args = p.parse_args(argv)
    if args.timeout <= 0:
        p.error("--timeout must be positive")
    if args.expect_min is not None and args.expect_min < 0:
        p.error("--expect-min must be >= 0")
    if args.expect_type and args.expect_min is None:
        args.expect_min = 1
    if not TOPIC_RE.match(args.topic):
        p.error(f"--topic {args.topic!r} is not renda.<6-digit county>.<service>")
    if args.api_version:
        try:
            args.api_version = tuple(int(x) for x in args.api_version.split("."))
        except ValueError:
            p.error(f"--api-version {args.api_version!r} is not like 2.8")
    args.brokers = [b.strip() for b in args.brokers.split(",") if b.strip()]
    if not args.brokers:
        p.error("--brokers is empty")
    return args


def run(args: argparse.Namespace) -> int:
    county, service = TOPIC_RE.match(args.topic).groups()  # type: ignore[union-attr]
    started = time.monotonic()
    deadline = started + args.timeout

    gen_dir, modules = compile_protos(args.proto_root.resolve(), args.gen_dir.resolve())
    load_event_types(gen_dir, modules)
    if args.expect_type:
        try:
            message_class(args.expect_type)
        except LookupError as e:
            raise SetupError(f"--expect-type: {e}") from None

    from kafka import KafkaConsumer
    from kafka.errors import KafkaError

    group = f"renda-outside-subscriber.{uuid.uuid4().hex[:12]}"
    config = dict(
        bootstrap_servers=args.brokers,
        client_id="renda-outside-subscriber",
        group_id=group,
        auto_offset_reset="earliest" if args.from_beginning else "latest",
        enable_auto_commit=False,
        allow_auto_create_topics=False,
        bootstrap_timeout_ms=int(max(1.0, min(args.timeout, 30.0)) * 1000),
    )
    if args.api_version:
        config["api_version"] = args.api_version
    # kafka-python logs every refused bootstrap connection; one clear error is enough (-v shows them).
    kafka_log = logging.getLogger("kafka")
    if not args.verbose:
        kafka_log.setLevel(logging.CRITICAL)
    try:
        consumer = KafkaConsumer(**config)
    except KafkaError as e:
        raise SetupError(f"cannot reach Kafka at {','.join(args.brokers)}: {e!r}") from None
    finally:
        kafka_log.setLevel(logging.NOTSET)
    try:
        version = ".".join(map(str, consumer.config["api_version"]))
        how = "pinned" if args.api_version else "detected"
        try:
            topics = consumer.topics()
        except KafkaError as e:
            raise SetupError(f"listing topics on {','.join(args.brokers)} failed: {e!r}") from None
        if args.topic not in topics:
            raise SetupError(f"topic {args.topic} does not exist on {','.join(args.brokers)} (topics are not auto-created)")
        say(
            f"reading {args.topic} ({len(consumer.partitions_for_topic(args.topic) or ())} partitions) "
            f"from {','.join(args.brokers)} as group {group}, Kafka API {version} ({how}), "
            f"{'from the beginning' if args.from_beginning else 'new events only'}, up to {args.timeout:g}s"
        )
        consumer.subscribe([args.topic])

        end_offsets = None
        counts: dict[str, int] = {}
        valid = invalid = 0
        caught_up = False
        out = sys.stdout

        def expectation_met() -> bool:
            if args.expect_min is None:
                return False
            seen = counts.get(args.expect_type, 0) if args.expect_type else valid
            return seen >= args.expect_min

        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            batch = consumer.poll(timeout_ms=int(min(remaining, 0.5) * 1000))
            for tp in sorted(batch, key=lambda t: t.partition):
                for record in batch[tp]:
                    event, ce_type, errors, warnings = check_record(record, county, service)
                    where = f"{record.topic}[{record.partition}]@{record.offset}"
                    for w in warnings:
                        say(f"warning: {where}: {w}")
                    if errors:
                        invalid += 1
                        say(f"INVALID {where} key={event['key']!r} ce_type={ce_type!r}:")
                        for e in errors:
                            say(f"  - {e}")
                        continue
                    valid += 1
                    counts[ce_type] = counts.get(ce_type, 0) + 1
                    out.write(json.dumps(event, ensure_ascii=False) + "\n")
                    out.flush()
            assignment = consumer.assignment()
            if assignment and end_offsets is None:
                end_offsets = consumer.end_offsets(list(assignment))
            if end_offsets and assignment:
                caught_up = all(consumer.position(tp) >= end_offsets.get(tp, 0) for tp in assignment)
            if args.from_beginning and caught_up and (args.expect_min is None or expectation_met()):
                break
            if not args.from_beginning and expectation_met():
                break
    finally:
        consumer.close(autocommit=False)

    elapsed = time.monotonic() - started
    by_type = ", ".join(f"{t}: {n}" for t, n in sorted(counts.items())) or "none"
    say(
        f"read {valid + invalid} records from {args.topic} in {elapsed:.1f}s"
        f"{' (up to the end offsets seen at start)' if caught_up else ''}: "
        f"{valid} valid ({by_type}), {invalid} invalid"
    )
    rc = 0
    if invalid:
        say(f"FAIL: {invalid} record(s) on {args.topic} break the event contract (see INVALID above)")
        rc = 1
    if args.expect_min is not None:
        what = f"{args.expect_type} event(s)" if args.expect_type else "valid event(s)"
        seen = counts.get(args.expect_type, 0) if args.expect_type else valid
        if seen < args.expect_min:
            say(
                f"FAIL: saw {seen} {what} on {args.topic}, expected at least {args.expect_min} "
                f"(read for {elapsed:.0f}s of --timeout {args.timeout:g}s)"
            )
            rc = 1
        elif rc == 0:
            say(f"OK: {seen} {what} with CloudEvents headers and a payload that decodes with proto/")
    elif rc == 0:
        say("OK: every record read has CloudEvents headers and a payload that decodes with proto/")
    return rc


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="subscriber: kafka-python %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return run(args)
    except SetupError as e:
        say(f"error: {e}")
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
