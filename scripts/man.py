#!/usr/bin/python3
"""Turn a man page written in a small Markdown subset into roff (man(7)).

    scripts/man.py --version VERSION --date YYYY-MM-DD IN.md OUT

The build runs it for docs/man/*.md (docs/man/CMakeLists.txt); Debian has
no pandoc or ronn by default, and the pages need only this much:

    # NAME(SECTION) -- one line about it      the first line, always
    ## TITLE                                  a section (.SH)
    ### TITLE                                 a subsection (.SS)
    text lines                                a paragraph; a blank line ends it
    TERM                                      a definition list: a term line,
    :   definition                            then ":   " and the definition,
        more of it                            indented 4; after a blank line,
                                              4-indented lines go on with it
    - item                                    a bullet list; an item goes on
      more of it                              on lines indented 2
    ```                                       lines shown as they are
    ```

Inside text: `code` (bold, taken as it is), **bold**, *italic*, and a
backslash before \\ ` * for the character itself. The source must be
ASCII without tabs. Anything else is an error naming the file and line:
the page is not written then.
"""
import os
import re
import sys

TITLE_RE = re.compile(r"^# ([a-z][a-z0-9_-]*)\(([1-9])\) -- (\S.*)$")


class ManError(Exception):
    """A mistake in the source, at line `line` (1-based)."""

    def __init__(self, line, msg):
        super().__init__(msg)
        self.line = line


def escape(text):
    """Plain text as roff: backslashes and minus signs escaped."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def inline(text, line):
    """The inline markup of `text` (may hold newlines) as roff fonts."""
    out = []
    font = None  # the open "**" or "*", and where it opened
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            if i + 1 >= len(text) or text[i + 1] not in "\\`*":
                raise ManError(line, "a backslash escapes only \\ ` *: %r"
                               % text[i:i + 2])
            out.append(escape(text[i + 1]))
            i += 2
        elif c == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise ManError(line, "` without its closing `")
            out.append("\\fB" + escape(text[i + 1:end]) + "\\fR")
            i = end + 1
        elif c == "*":
            mark = "**" if text.startswith("**", i) else "*"
            if font is None:
                font = mark
                out.append("\\fB" if mark == "**" else "\\fI")
            elif font == mark:
                font = None
                out.append("\\fR")
            else:
                raise ManError(line, "%s inside %s: fonts do not nest" % (mark, font))
            i += len(mark)
        else:
            out.append(escape(c))
            i += 1
    if font is not None:
        raise ManError(line, "%s without its closing %s" % (font, font))
    return "".join(out)


def text_lines(lines, first):
    """Lines of running text (inline markup, indentation dropped) as roff."""
    body = inline("\n".join(l.strip() for l in lines), first)
    # a line that starts with . or ' would be a roff request
    return ["\\&" + l if l[:1] in (".", "'") else l for l in body.split("\n")]


def deflist(block, first, out):
    """TERM / ":   definition" / 4-indented lines, as .TP items."""
    i = 0
    while i < len(block):
        at = first + i
        term = block[i]
        if term.startswith(" ") or i + 1 >= len(block) or not block[i + 1].startswith(":   "):
            raise ManError(at, "a definition list item is a term line, then \":   definition\"")
        body = [block[i + 1][4:]]
        i += 2
        while i < len(block) and block[i].startswith("    "):
            body.append(block[i])
            i += 1
        out.append(".TP")
        out.extend(text_lines([term], at))
        out.extend(text_lines(body, at + 1))


def bullets(block, first, out):
    """"- item" with 2-indented lines going on, as .IP bullets."""
    i = 0
    while i < len(block):
        at = first + i
        if not block[i].startswith("- "):
            raise ManError(at, "a bullet list item starts with \"- \"")
        body = [block[i][2:]]
        i += 1
        while i < len(block) and block[i].startswith("  "):
            body.append(block[i])
            i += 1
        out.append(".IP \\(bu 2")
        out.extend(text_lines(body, at))


def convert(src, version, date):
    """The roff of the page whose source lines are `src`."""
    for n, l in enumerate(src, 1):
        if not l.isascii():
            raise ManError(n, "not ASCII (roff input: write it in ASCII)")
        if "\t" in l:
            raise ManError(n, "a tab (indent with spaces)")
    m = TITLE_RE.match(src[0]) if src else None
    if m is None:
        raise ManError(1, "the first line must be \"# name(SECTION) -- what it is\"")
    name, section, about = m.groups()
    out = ['.TH "%s" "%s" "%s" "xipc %s" "xipc manual"'
           % (name.upper(), section, date, version),
           # no hyphenation, ragged right: identifiers stay whole, as typed
           ".nh", ".ad l",
           ".SH NAME", "%s \\- %s" % (escape(name), inline(about, 1))]
    i = 1
    last = None  # the kind of the block before, for continued definitions
    while i < len(src):
        line = src[i]
        if line.strip() == "":
            i += 1
            continue
        first = i + 1
        if line.startswith("```"):
            end = next((j for j in range(i + 1, len(src)) if src[j].startswith("```")), None)
            if end is None:
                raise ManError(first, "``` without its closing ```")
            out += [".PP", ".RS 4", ".nf"]
            out += ["\\&" + escape(l) for l in src[i + 1:end]]
            out += [".fi", ".RE"]
            i = end + 1
            last = "code"
            continue
        if line.startswith("#"):
            m = re.match(r'^(##|###) ([^\s"][^"]*)$', line)
            if m is None:
                raise ManError(first, "a heading is \"## TITLE\" or \"### TITLE\", without \"")
            if m.group(1) == "##":
                out.append('.SH "%s"' % escape(m.group(2).upper()))
            else:
                out.append(".SS " + inline(m.group(2), first))
            i += 1
            last = "heading"
            continue
        block = []
        while i < len(src) and src[i].strip() and not src[i].startswith(("```", "#")):
            block.append(src[i])
            i += 1
        if len(block) > 1 and block[1].startswith(":   "):
            if last == "bullets":  # .TP would keep the bullets' indent
                out.append(".PP")
            deflist(block, first, out)
            last = "deflist"
        elif block[0].startswith("- "):
            bullets(block, first, out)
            last = "bullets"
        elif block[0].startswith("    "):
            if last != "deflist":
                raise ManError(first, "an indented paragraph goes on a definition: none before it")
            out.append(".IP")
            out.extend(text_lines(block, first))
        elif block[0].startswith(" "):
            raise ManError(first, "a paragraph starts in column 1 (4 spaces: a definition's)")
        elif block[0].startswith(":"):
            raise ManError(first, "\":   definition\" without a term line before it")
        else:
            out.append(".PP")
            out.extend(text_lines(block, first))
            last = "text"
    return out


def main(argv):
    usage = "usage: man.py --version VERSION --date YYYY-MM-DD IN.md OUT"
    opts = {}
    args = argv[1:]
    while args and args[0] in ("--version", "--date"):
        if len(args) < 2:
            print("man.py: %s: missing value\n%s" % (args[0], usage), file=sys.stderr)
            return 2
        opts[args[0]] = args[1]
        args = args[2:]
    if len(args) != 2 or len(opts) != 2:
        print(usage, file=sys.stderr)
        return 2
    if not re.match(r"^\d{4}-\d{2}-\d{2}$", opts["--date"]):
        print("man.py: --date %r is not YYYY-MM-DD" % opts["--date"], file=sys.stderr)
        return 2
    src_path, out_path = args
    try:
        with open(src_path, encoding="ascii", errors="surrogateescape") as f:
            src = f.read().split("\n")
    except OSError as e:
        print("man.py: %s: %s" % (src_path, e.strerror), file=sys.stderr)
        return 1
    if src and src[-1] == "":
        src.pop()
    try:
        roff = convert(src, opts["--version"], opts["--date"])
    except ManError as e:
        print("man.py: %s:%d: %s" % (src_path, e.line, e), file=sys.stderr)
        return 1
    head = '.\\" Made by scripts/man.py from %s: edit that file, not this one.' \
        % os.path.basename(src_path)
    tmp = out_path + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write("\n".join([head] + roff) + "\n")
    os.replace(tmp, out_path)  # the page whole, or not at all
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
