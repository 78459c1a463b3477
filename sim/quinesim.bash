# bash completion for quinesim: installed by `make install` as
# $(PREFIX)/share/bash-completion/completions/quinesim.
#
# Everything is asked of the program itself, so it never goes stale: the commands from
# `quinesim --help`, each command's options from its `--help`, and the scenario keys that
# `--set`, `--sweep` and `--allow-changes` take from `quinesim run --keys` (species keys with the
# species named in the scenario file on the command line, if any), and `data`'s
# subcommands from its usage lines.

_quinesim_keys()
{
    local bin=$1 suffix=$2 species="" w
    for w in "${COMP_WORDS[@]}"; do
        [[ $w == *.ini && -r $w ]] &&
            species+=" $(sed -n 's/^[[:space:]]*\[species\.\([^]]*\)\].*/\1/p' "$w")"
    done
    [[ -n ${species// /} ]] || species=NAME
    "$bin" run --keys 2>/dev/null | awk -F' *[|] *' -v sp="$species" -v suf="$suffix" '
        NR > 2 && $2 != "" {
            if ($2 == "species.NAME") {
                n = split(sp, names, " ")
                for (i = 1; i <= n; i++) print "species." names[i] "." $3 suf
            } else print $2 "." $3 suf
        }'
}

_quinesim()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    local bin=${COMP_WORDS[0]} cmd=${COMP_WORDS[1]} words
    COMPREPLY=()
    if ((COMP_CWORD == 1)); then
        words="$("$bin" --help 2>/dev/null |
            awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }') help --help --version"
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return
    fi
    case $prev in
    --set | --sweep)
        compopt -o nospace 2>/dev/null
        COMPREPLY=($(compgen -W "$(_quinesim_keys "$bin" =)" -- "$cur"))
        return
        ;;
    --allow-changes)
        COMPREPLY=($(compgen -W "$(_quinesim_keys "$bin" "")" -- "${cur##*,}"))
        return
        ;;
    --out | --plot | --resume | --data)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur"))
        return
        ;;
    --workers)
        COMPREPLY=($(compgen -W "auto" -- "$cur"))
        return
        ;;
    --seeds) # a list: nothing to complete, but not a file name either
        return
        ;;
    --model)
        COMPREPLY=($(compgen -W "vanilla aux" -- "$cur"))
        return
        ;;
    esac
    if [[ $cmd == help ]]; then
        ((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W "$("$bin" --help 2>/dev/null |
            awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')" -- "$cur"))
        return
    fi
    if [[ $cmd == data && COMP_CWORD -eq 2 ]]; then # its subcommands, from its usage lines
        words=$("$bin" data --help 2>/dev/null | awk '/^(usage:|      ) *quinesim data [a-z]/ {
            for (i = 1; i < NF; i++) if ($i == "data") { print $(i + 1); break } }')
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return
    fi
    if [[ $cur == -* ]]; then
        words=$("$bin" "$cmd" --help 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
        return
    fi
    compopt -o filenames 2>/dev/null
    if [[ $cmd == run ]]; then
        COMPREPLY=($(compgen -d -- "$cur") $(compgen -f -X '!*.ini' -- "$cur"))
    else
        COMPREPLY=($(compgen -f -- "$cur"))
    fi
}

complete -F _quinesim quinesim
