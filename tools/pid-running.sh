# Sourced by tools/kube-apiserver.sh and tools/docker-engine.sh.

pid_running() {
    # $1: a pid file, $2: the program's name. The pid in the file if that
    # process is alive and runs the program, or nothing (status 1).
    local file=$1 name=$2 pid state cmdline
    [ -s "$file" ] || return 1
    pid=$(cat "$file")
    [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
    # NOTE: a process in the middle of exec (setsid becoming the server)
    # has an empty cmdline for a moment, long enough under load to be read
    # here: that is a start, not an exit. A zombie's is empty too: its
    # state says which.
    state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
    case ${state%% *} in ''|Z|X|x) return 1 ;; esac
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [ -z "$cmdline" ] || [[ $cmdline == *"$name"* ]] || return 1
    echo "$pid"
}
