#!/usr/bin/env python3
"""The masking detectors of persona-shim written the way a Python gateway would: one `re` pattern per detector,
the same checks (Luhn, mod-97, JWT header, placeholders) in Python after the match, overlaps settled as the shim
does (the longer wins, then the detector listed first).

persona-bench runs it as the anchor beside its own figures:
    python3 Benchmarks/reference_masker.py [--repeats N] FILE...
prints one line per file: `FILE MEDIAN_SECONDS DETECTIONS`. With --show it prints every detection instead.
"""

import base64
import re
import sys
import time

NAMES = ["email", "phone", "card", "iban", "us-ssn", "aws-access-key", "aws-secret-key", "github-token",
         "gitlab-token", "slack-token", "stripe-key", "openai-key", "private-key", "jwt", "credential"]

IBAN_LENGTHS = dict((entry[:2], int(entry[2:])) for entry in (
    "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 "
    "EE20 EG29 ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 "
    "JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 "
    "NO15 OM23 PK24 PL28 PS29 PT25 QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 "
    "TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30").split())

FILE_EXTENSIONS = set("png jpg jpeg gif svg webp ico js css scss json txt yml yaml toml lock html htm pdf gz tar "
                      "swift kt cpp java".split())

EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])([A-Za-z0-9_%+-][A-Za-z0-9._%+-]*)@([A-Za-z0-9][A-Za-z0-9-]*"
                   r"(?:\.[A-Za-z0-9][A-Za-z0-9-]*)+)")
E164 = re.compile(r"(?<![\w+])\+[1-9][\d .()-]{5,22}\d(?![\w])")
NANP = re.compile(r"(?<![\w.+-])(?:1([ .-]))?(?:\([2-9]\d\d\)[ -]?|[2-9]\d\d([ .-]))\d{3}[ .-]\d{4}(?![\w])")
TRUNK = re.compile(r"(?<![\w.+-])0[1-9]\d{0,3}(?:([ .-])\d{2,8})(?:\1\d{2,8}){0,6}(?![\w])")
CARD = re.compile(r"(?<![\w.+-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}(?:\1\d{1,4}){0,2}|\d{4}([ -])\d{6}\2\d{4,5})"
                  r"(?![\w])")
IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,4})?)(?![\w])")
SSN = re.compile(r"(?<![\w.+-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w])")
AWS_ACCESS = re.compile(r"(?<!\w)(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?!\w)")
AWS_SECRET = re.compile(r"(?i)(?<![\w.-])[\w.-]*(?:secret_?access_?key|aws_?secret_?key)[\"']?\s*[:=]\s*[\"']?"
                        r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
GITHUB = re.compile(r"(?<!\w)(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?!\w)")
GITLAB = re.compile(r"(?<!\w)(?:glpat|gldt|glrt)-[A-Za-z0-9_-]{20,255}(?![\w-])")
SLACK = re.compile(r"(?<!\w)xox[baprs]-(?=[A-Za-z0-9-]*-)[A-Za-z0-9-]{20,255}(?![\w-])")
STRIPE = re.compile(r"(?<!\w)[sr]k_(?:live|test)_[A-Za-z0-9]{16,}(?!\w)")
OPENAI = re.compile(r"(?<!\w)sk-(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,255}(?![\w-])")
PRIVATE_KEY = re.compile(r"-----BEGIN ([A-Z ]*PRIVATE KEY[A-Z ]*)-----.*?-----END \1-----", re.S)
JWT = re.compile(r"(?<![\w.-])(eyJ[A-Za-z0-9_-]{7,})\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?![\w.-])")
BEARER = re.compile(r"(?i)(?<!\w)bearer +([A-Za-z0-9._~+/-]{8,}=*)(?!\w)")
KEYWORD = re.compile(r"(?i)(?<![\w.-])([\w.-]*(?:password|passwd|secret|secret_?key|api_?key|access_?token|"
                     r"refresh_?token|auth_?token|api_?token))([\"']?)( *)([=:])( *)(?:\"([^\"\n]*)\"|'([^'\n]*)'|"
                     r"([^\s\"'&,;(){}\[\]]+))")
PLACEHOLDERS = {"true", "false", "null", "none", "nil", "undefined"}


def luhn(digits):
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def known_issuer(digits):
    n = len(digits)
    if digits[0] == "4":
        return n in (13, 16, 19)
    p2, p3, p4 = int(digits[:2]), int(digits[:3]), int(digits[:4])
    if 51 <= p2 <= 55 or 2221 <= p4 <= 2720:
        return n == 16
    if p2 in (34, 37):
        return n == 15
    if 3528 <= p4 <= 3589:
        return n >= 16
    if 300 <= p3 <= 305 or p2 in (36, 38, 39):
        return n >= 14
    if p4 == 6011 or p2 == 65 or 644 <= p3 <= 649 or p2 == 62:
        return n >= 16
    return False


def iban_valid(text):
    compact = text.replace(" ", "")
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def jwt_header(segment):
    try:
        decoded = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except ValueError:
        return False
    return decoded.lstrip().startswith(b"{") and b"}" in decoded and b'"alg"' in decoded


def looks_like_secret(value):
    return len(value) >= 6 and any(c.isdigit() or not c.isalpha() or (c.isupper() and i > 0)
                                   for i, c in enumerate(value))


def detect(text):
    found = []

    def add(name, start, end):
        found.append((start, end, NAMES.index(name)))

    for m in EMAIL.finditer(text):
        start, end = m.span()
        tld = m.group(2).rsplit(".", 1)[-1]
        before = text[max(0, start - 2):start]
        if not (2 <= len(tld) <= 24 and tld.isalpha()) or tld.lower() in FILE_EXTENSIONS or m.group(1).endswith("."):
            continue
        if before == "//" or (before.endswith(":") and re.search(r"//[\w.%+-]*:$", text[max(0, start - 260):start])):
            continue
        if text[end:end + 1] == ":" and re.match(r"[\w/]", text[end + 1:end + 2] or " "):
            continue
        if text[end:end + 1] == "@" or re.match(r"\w", text[end:end + 1] or " "):
            continue
        add("email", start, end)
    for m in E164.finditer(text):
        if 8 <= sum(c.isdigit() for c in m.group()) <= 15:
            add("phone", *m.span())
    for m in NANP.finditer(text):
        add("phone", *m.span())
    for m in TRUNK.finditer(text):
        if 10 <= sum(c.isdigit() for c in m.group()) <= 11:
            add("phone", *m.span())
    for m in CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if known_issuer(digits) and luhn(digits):
            add("card", *m.span())
    for m in IBAN.finditer(text):
        if iban_valid(m.group()):
            add("iban", *m.span())
    for m in SSN.finditer(text):
        add("us-ssn", *m.span())
    for m in AWS_ACCESS.finditer(text):
        add("aws-access-key", *m.span())
    for m in AWS_SECRET.finditer(text):
        add("aws-secret-key", *m.span(1))
    for pattern, name in ((GITHUB, "github-token"), (GITLAB, "gitlab-token"), (SLACK, "slack-token"),
                          (STRIPE, "stripe-key"), (OPENAI, "openai-key"), (PRIVATE_KEY, "private-key")):
        for m in pattern.finditer(text):
            add(name, *m.span())
    for m in JWT.finditer(text):
        if jwt_header(m.group(1)):
            add("jwt", *m.span())
    for m in BEARER.finditer(text):
        if any(c.isdigit() for c in m.group(1)):
            add("credential", *m.span(1))
    for m in KEYWORD.finditer(text):
        quoted_name, spaced_before, separator, spaced_after = m.group(2), m.group(3), m.group(4), m.group(5)
        value_group = 6 if m.group(6) is not None else 7 if m.group(7) is not None else 8
        value = m.group(value_group)
        if not value or value[0] in "${<*[%" or value.lower() in PLACEHOLDERS:
            continue
        if value_group == 8 and separator == "=" and spaced_after:
            continue
        if value_group == 8 and separator == ":" and not quoted_name and not looks_like_secret(value):
            continue
        add("credential", *m.span(value_group))
    return resolve(found)


def resolve(found):
    chosen = []
    taken = []
    for start, end, index in sorted(found, key=lambda f: (-(f[1] - f[0]), f[2], f[0])):
        if any(start < t_end and t_start < end for t_start, t_end in taken):
            continue
        taken.append((start, end))
        chosen.append((start, end, NAMES[index]))
    return sorted(chosen)


def main(arguments):
    repeats, show, files = 1, False, []
    while arguments:
        argument = arguments.pop(0)
        if argument == "--repeats":
            repeats = max(1, int(arguments.pop(0)))
        elif argument == "--show":
            show = True
        else:
            files.append(argument)
    for path in files:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        samples = []
        for _ in range(repeats):
            started = time.process_time()
            detections = detect(text)
            samples.append(time.process_time() - started)
        if show:
            for start, end, name in detections:
                print(name, repr(text[start:end]))
        samples.sort()
        print(path, f"{samples[len(samples) // 2]:.6f}", len(detections))


if __name__ == "__main__":
    main(sys.argv[1:])
