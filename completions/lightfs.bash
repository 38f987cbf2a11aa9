# bash completion for lightfs                                  -*- shell-script -*-
#
# Installed as $PREFIX/share/bash-completion/completions/lightfs (loaded on
# demand by bash-completion), or source it from ~/.bashrc.
#
# The candidates come from lightfs itself (`lightfs __complete -- WORDS`),
# which reads its command table and opens IMAGE:/paths read-only with a
# time limit, so this file names no command or option of its own.
#
# `:` is in COMP_WORDBREAKS, so bash splits `img.lfs:/us` into `img.lfs`,
# `:`, `/us`.  We rebuild the word as typed from COMP_LINE and hand back
# candidates with the part up to the last `:` removed (what bash replaces).

# The words of COMP_LINE up to the cursor, split on blanks only (quotes kept
# out), into the array __lightfs_words; the last one is the current word.
__lightfs_split()
{
	local line=${COMP_LINE:0:COMP_POINT} w="" q="" c i
	__lightfs_words=()
	for ((i = 0; i < ${#line}; i++)); do
		c=${line:i:1}
		if [[ -n $q ]]; then
			if [[ $c == "$q" ]]; then q=""
			elif [[ $q == '"' && $c == '\' ]]; then ((i++)); w+=${line:i:1}
			else w+=$c; fi
		elif [[ $c == "'" || $c == '"' ]]; then q=$c
		elif [[ $c == '\' ]]; then ((i++)); w+=${line:i:1}
		elif [[ $c == ' ' || $c == $'\t' ]]; then
			[[ -n $w ]] && __lightfs_words+=("$w")
			w=""
		else w+=$c; fi
	done
	__lightfs_words+=("$w")
}

_lightfs()
{
	local IFS=$'\n' cur prefix c files="" dirs=""
	local -a cands
	local __lightfs_words
	__lightfs_split
	cur=${__lightfs_words[-1]}
	# the part of cur bash does not replace (up to the last ':')
	prefix=""
	[[ $cur == *:* && $COMP_WORDBREAKS == *:* ]] && prefix=${cur%"${cur##*:}"}

	cands=($("${__lightfs_cmd:-${COMP_WORDS[0]}}" __complete -- "${__lightfs_words[@]:1}" 2>/dev/null))
	COMPREPLY=()
	for c in "${cands[@]}"; do
		case $c in
		::files) files=1 ;;
		::dirs) dirs=1 ;;
		*)
			COMPREPLY+=("$(printf '%q' "${c#"$prefix"}")")
			;;
		esac
	done
	if [[ -n $files || -n $dirs ]]; then
		local f
		if [[ -n $dirs ]]; then
			cands=($(compgen -d -- "$cur"))
		else
			cands=($(compgen -f -- "$cur"))
		fi
		for f in "${cands[@]}"; do
			[[ -d $f ]] && f+=/
			COMPREPLY+=("$(printf '%q' "${f#"$prefix"}")")
		done
	fi
	# a directory or an IMAGE: prefix is completed further, not ended by a space
	if ((${#COMPREPLY[@]} == 1)) && [[ ${COMPREPLY[0]} == */ || ${COMPREPLY[0]} == *: ]]; then
		compopt -o nospace 2>/dev/null
	fi
	return 0
}

complete -F _lightfs lightfs
