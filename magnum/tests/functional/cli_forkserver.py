"""Runs one console script of a client's virtualenv again and again, each
run in a fork of an interpreter that has already imported it.

The functional tests run the real ``magnum`` and ``openstack`` commands
hundreds of times; most of each run is the interpreter starting and
importing the client (about a second of CPU for ``openstack``). This
script, started with the virtualenv's own python, imports the script's
entry point once and then, for each request, forks: the child takes the
request's argv, environment, working directory and output files, and calls
the same entry point the console script calls, as a fresh process would.
What a child imports (a command's modules, loaded on first use) is
imported by the server afterwards, so later children find it loaded.

Requests and answers are JSON lines on stdin and stdout::

    {"argv": [...], "env": {...}, "cwd": "...", "stdout": F, "stderr": F}
    -> {"pid": P}            (the child runs)
    -> {"returncode": N}     (it ended)

Only the standard library is used: it runs in any client's virtualenv.
"""

import atexit
import importlib
import importlib.metadata
import json
import os
import sys
import traceback


def _entry_point(name):
    for entry in importlib.metadata.entry_points(group='console_scripts'):
        if entry.name == name:
            return entry
    raise SystemExit('no console script %r' % name)


def _exit_code(code):
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write('%s\n' % code)
    return 1


def _child(function, request, learned):
    os.chdir(request['cwd'])
    os.environ.clear()
    os.environ.update(request['env'])
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    sys.stdin = open(0, closefd=False)
    for fd, path in ((1, request['stdout']), (2, request['stderr'])):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(out, fd)
        os.close(out)
    sys.argv = list(request['argv'])
    before = set(sys.modules)
    try:
        code = _exit_code(function())
    except SystemExit as e:
        code = _exit_code(e.code)
    except BaseException:
        traceback.print_exc()
        code = 1
    try:
        # NOTE: what an interpreter does at its exit (logging's flush...).
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        with open(learned, 'w') as out:
            out.write('\n'.join(sorted(set(sys.modules) - before)))
    finally:
        os._exit(code)


def _learn(learned):
    """Import what the last child imported, so the next finds it loaded."""
    try:
        with open(learned) as names:
            modules = names.read().split()
        os.unlink(learned)
    except OSError:
        return
    for name in modules:
        if name not in sys.modules and not name.startswith('__'):
            try:
                importlib.import_module(name)
            except Exception:  # noqa: S110 - the child will import it
                pass


def main():
    script, learned = sys.argv[1], sys.argv[2]
    # NOTE: as the console script would see it, should an import read it.
    sys.argv = [script]
    function = _entry_point(os.path.basename(script)).load()
    answers = os.fdopen(os.dup(1), 'w')
    # NOTE: nothing of the server's own may reach a child's output.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            answers.close()
            _child(function, request, learned)
        answers.write(json.dumps({'pid': pid}) + '\n')
        answers.flush()
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps(
            {'returncode': os.waitstatus_to_exitcode(status)}) + '\n')
        answers.flush()
        _learn(learned)


if __name__ == '__main__':
    main()
