#!/usr/bin/env python3
"""Print the benchmark table of scripts/bench.

usage: table.py CRITERION_DIR RESULTS_DIR

CRITERION_DIR holds Criterion's estimates (mean time per iteration, ns);
RESULTS_DIR the outputs of the OpenSSL harness (openssl.txt,
openssl-memory.txt), of the memory count (ours-memory.txt) and of the load
test (load.txt).
"""
import json
import os
import re
import sys


def criterion(root):
    """full_id -> (mean ns, bytes or None)"""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(dirpath, "benchmark.json")) as f:
            meta = json.load(f)
        with open(os.path.join(dirpath, "estimates.json")) as f:
            est = json.load(f)
        size = (meta.get("throughput") or {}).get("Bytes")
        out[meta["full_id"]] = (est["mean"]["point_estimate"], size)
    return out


def openssl(path):
    """id -> ns, or id -> 'n/a reason'"""
    out = {}
    with open(path) as f:
        for line in f:
            parts = line.split(None, 1)
            if len(parts) != 2:
                continue
            key, rest = parts
            rest = rest.strip()
            out[key] = float(rest) if re.fullmatch(r"[0-9.]+", rest) else rest
    return out


def kv_lines(path, prefix):
    """'prefix CASE k=v ...' lines -> {CASE: {k: v}} (and the raw text)"""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            words = line.split()
            if len(words) >= 2 and words[0] == prefix:
                fields = dict(w.split("=", 1) for w in words[2:] if "=" in w)
                fields["_text"] = " ".join(words[2:])
                out[words[1]] = fields
    return out


def fmt_ns(ns):
    if isinstance(ns, str):
        return "n/a"
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def ratio(a, b):
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) or b == 0:
        return "-"
    return f"{a / b:.2f}"


def row(cells):
    print("| " + " | ".join(cells) + " |")


def main():
    crit = criterion(sys.argv[1])
    res = sys.argv[2]
    ossl = openssl(os.path.join(res, "openssl.txt"))
    ours_mem = kv_lines(os.path.join(res, "ours-memory.txt"), "memory")
    ours_ops = kv_lines(os.path.join(res, "ours-memory.txt"), "ops")
    ossl_mem = kv_lines(os.path.join(res, "openssl-memory.txt"), "memory")

    def ours(key):
        return crit.get(key, (None, None))[0]

    codec_worst = 0.0
    print()
    row(["operation", "ours", "OpenSSL 3.0", "ours / OpenSSL"])
    row(["---", "---:", "---:", "---:"])
    for name in ["ir", "ip", "certConf", "genp-cacerts", "rp-large"]:
        size = crit.get(f"codec/decode/{name}", (None, None))[1]
        label = f"{name} ({size} B)" if size else name
        for op in ["decode", "encode"]:
            a, b = ours(f"codec/{op}/{name}"), ossl.get(f"codec/{op}/{name}")
            r = ratio(a, b)
            if r != "-":
                codec_worst = max(codec_worst, float(r))
            row([f"{op} {label}", fmt_ns(a), fmt_ns(b), r])
        # what a received message goes through, judged against OpenSSL's decode
        a = ours(f"codec/parse/{name}")
        b = ossl.get(f"codec/decode/{name}")
        r = ratio(a, b)
        if r != "-":
            codec_worst = max(codec_worst, float(r))
        row([f"decode + canonical-DER check {label}", fmt_ns(a), fmt_ns(b), r])
    for scheme in ["pbm", "pbmac1", "ecdsa-p256", "ed25519"]:
        for op in ["apply", "verify"]:
            key = f"protect/{op}/{scheme}"
            a, b = ours(key), ossl.get(key)
            row([f"{op} {scheme} protection", fmt_ns(a), fmt_ns(b), ratio(a, b)])

    print()
    inter = kv_lines(os.path.join(res, "ratio.txt"), "ratio")
    row(["full transaction (ir, ip, certConf, pkiConf; client + responder in process)",
         "ours", "OpenSSL 3.0", "ours / OpenSSL", "crypto floor (ours)", "ours / floor",
         "ours / floor, interleaved"])
    row(["---", "---:", "---:", "---:", "---:", "---:", "---:"])
    tx_worst = 0.0
    for case, label, ossl_case in [
            ("mac", "PBM, our default (10,000 iterations)", None),
            ("mac500", "PBM, OpenSSL's parameters (500 iterations)", "mac"),
            ("sig", "ECDSA P-256 signatures", "sig")]:
        a, fl = ours(f"transaction/{case}"), ours(f"floor/{case}")
        b = ossl.get(f"transaction/{ossl_case}") if ossl_case else None
        i = inter.get(case, {})
        r = i.get("ratio", ratio(a, fl))
        if r != "-":
            tx_worst = max(tx_worst, float(r))
        detail = (f"{float(i['ratio']):.2f} ({fmt_ns(float(i['transaction_ns']))} / "
                  f"{fmt_ns(float(i['floor_ns']))})") if i else "-"
        row([label, fmt_ns(a), fmt_ns(b), ratio(a, b), fmt_ns(fl), ratio(a, fl), detail])

    print()
    row(["heap per transaction", "ours: peak", "ours: allocations", "OpenSSL: peak", "OpenSSL: allocations"])
    row(["---", "---:", "---:", "---:", "---:"])
    for case, label in [("mac", "PBM"), ("sig", "ECDSA P-256 signatures")]:
        o, s = ours_mem.get(case, {}), ossl_mem.get(case, {})
        row([label, f"{o.get('peak_bytes', '-')} B", o.get("allocations", "-"),
             f"{s.get('peak_bytes', '-')} B", s.get("allocations", "-")])
    for case in ["mac", "sig"]:
        if case in ours_ops:
            print(f"\ncryptographic operations in our {case} transaction: {ours_ops[case]['_text']}")

    load = {}
    load_path = os.path.join(res, "load.txt")
    if os.path.exists(load_path):
        with open(load_path) as f:
            for line in f:
                m = re.match(r"(\S+) (\d+) .*transactions=(\d+) failed=(\d+) tps=([0-9.]+)", line)
                if m:
                    load[(m.group(1), m.group(2))] = (float(m.group(5)), int(m.group(4)))
    print()
    row(["HTTP on loopback, PBM ir/ip/certConf/pkiConf", "cmp serve", "openssl cmp -port", "ours / OpenSSL"])
    row(["---", "---:", "---:", "---:"])
    s1, o1 = load.get(("serve", "1")), load.get(("openssl", "1"))
    row(["transactions/s, 1 connection",
         f"{s1[0]:.1f}" if s1 else "-", f"{o1[0]:.1f}" if o1 else "-",
         f"{s1[0] / o1[0]:.2f}" if s1 and o1 and o1[0] else "-"])
    s4 = load.get(("serve", "4"))
    row(["transactions/s, 4 connections",
         f"{s4[0]:.1f}" if s4 else "-", "n/a (one transaction at a time)", "-"])
    failed = sum(v[1] for v in load.values())
    if failed:
        print(f"\nWARNING: {failed} load-test transactions failed")

    print()
    row(["decode size sweep (rp)", "bytes", "ours decode ns/B", "ours decode+check ns/B", "OpenSSL d2i ns/B"])
    row(["---", "---:", "---:", "---:", "---:"])
    per_byte = []
    for size in [1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20]:
        d, n = crit.get(f"sweep/decode/{size}", (None, None))
        p = ours(f"sweep/parse/{size}")
        o = ossl.get(f"sweep/decode/{size}")
        if not n:
            continue
        per_byte.append(p / n if p else None)
        row([f"{size // 1024} KiB", str(n), f"{d / n:.2f}" if d else "-",
             f"{p / n:.2f}" if p else "-",
             f"{o / n:.2f}" if isinstance(o, float) else "n/a"])
    flat = [x for x in per_byte if x]
    spread = max(flat) / min(flat) if flat else float("nan")

    print()
    print("targets:")
    print(f"  codec at most 0.5x OpenSSL:        worst ratio {codec_worst:.2f}  "
          f"{'met' if codec_worst <= 0.5 else 'NOT met'}")
    print(f"  transaction within 1.1x of floor:  worst ratio {tx_worst:.2f} (interleaved)  "
          f"{'met' if tx_worst <= 1.1 else 'NOT met'}")
    print(f"  decode ns/byte flat 1 KiB..1 MiB:  max/min {spread:.2f}  "
          f"{'met' if spread <= 2.0 else 'NOT met'} (flat = within 2x)")


if __name__ == "__main__":
    main()
