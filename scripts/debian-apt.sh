# Sourced by the fetchers of Debian sources newer than this host's release
# (kernel-patch/scripts/fetch-source.sh, integrations/criu/scripts/
# fetch-source.sh). A private apt state keeps the host's sources untouched
# and never installs anything from the newer release. The mirror is derived
# from the machine's apt configuration, never written down.

# debian_mirror_uri: the first Debian archive URI of the host's apt
# configuration (deb822 or one-line format); the security archive carries
# no sources of ours.
debian_mirror_uri() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' "$f" |
			grep -v -- '-security' | grep '/debian/\?$' | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; break } }' "$f" |
			grep -v -- '-security' | grep '/debian/\?$' | head -n1)
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	return 1
}

# debian_apt_state STATE LINE...: a private apt state in STATE whose
# sources are LINE... (each "deb|deb-src SUITE COMPONENT"), its lists
# refreshed once a day. Sets the array apt_opts for apt-get and apt-cache.
debian_apt_state() {
	local state=$1 uri line
	shift
	uri=$(debian_mirror_uri) || { echo "no Debian mirror in the apt configuration" >&2; return 1; }
	mkdir -p "$state/lists/partial" "$state/archives/partial"
	for line in "$@"; do
		set -- $line
		echo "$1 [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $2 $3"
	done >"$state/sources.list.new"
	# A changed source list means the lists are stale too.
	if ! cmp -s "$state/sources.list.new" "$state/sources.list"; then
		mv "$state/sources.list.new" "$state/sources.list"
		rm -f "$state/updated"
	else
		rm -f "$state/sources.list.new"
	fi
	apt_opts=(
		-o "Dir::Etc::SourceList=$state/sources.list"
		-o "Dir::Etc::SourceParts=-"
		-o "Dir::State::Lists=$state/lists"
		-o "Dir::Cache::Archives=$state/archives"
		-o "Dir::Cache=$state"
		-o "Dir::State::status=/dev/null"
		-o "APT::Get::List-Cleanup=0"
		-o "Acquire::Languages=none"
	)
	if [ ! -f "$state/updated" ] || [ -n "$(find "$state/updated" -mmin +1440)" ]; then
		apt-get "${apt_opts[@]}" -qq update >&2 || return 1
		touch "$state/updated"
	fi
}
