# fish completion for lightfs.  Installed as
# $PREFIX/share/fish/vendor_completions.d/lightfs.fish.
#
# The candidates come from lightfs itself (`lightfs __complete -- WORDS`),
# which reads its command table and opens IMAGE:/paths read-only with a
# time limit; a `::files` / `::dirs` line asks for host file completion.

function __lightfs_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l bin $words[1]
    set -e words[1]
    for c in ($bin __complete -- $words $cur 2>/dev/null)
        switch $c
            case '::files'
                __fish_complete_path $cur
            case '::dirs'
                __fish_complete_directories $cur ''
            case '*'
                printf '%s\n' $c
        end
    end
end

complete -c lightfs -f -a '(__lightfs_complete)'
