#!/bin/bash
# provision.sh NAME IP DOMAIN ALL_NODES NAMESERVERS: turns a fresh Debian 12
# machine into node NAME of an autoradio cluster, following the README's
# "Installing a cluster": install the packages, then configure etcd and
# autoradio with scripts/configure-node. The first node of ALL_NODES
# (name=ip,...) starts a new etcd cluster; every other node is added to it
# with `etcdctl member add`, one at a time. Run by Vagrant, as root, with
# the repository at /autoradio; safe to run again.
set -euo pipefail

name=$1 ip=$2 domain=$3 all_nodes=$4 nameservers=$5
repo=/autoradio
debs=$repo/vagrant-test
export DEBIAN_FRONTEND=noninteractive
export ETCDCTL_API=3

log() { echo "provision $name: $*"; }

# hosts makes every node's name resolve to its private address, so that
# `hostname -f` gives the address peers use.
hosts() {
	local entry n
	local IFS=,
	for entry in $all_nodes; do
		n=${entry%%=*}
		sed -i "/[[:space:]]$n\$/d; /[[:space:]]$n[[:space:]]/d" /etc/hosts
		echo "${entry#*=} $n.$domain $n" >>/etc/hosts
	done
}

# install_packages installs etcd and the autoradio packages, these from the
# local repository made of the .deb files copied into vagrant-test/.
install_packages() {
	if [ -f "$debs/Packages" ]; then
		echo "deb [trusted=yes] file:$debs ./" >/etc/apt/sources.list.d/autoradio-local.list
	elif [ -n "${AUTORADIO_APT_SOURCE:-}" ]; then
		echo "$AUTORADIO_APT_SOURCE" >/etc/apt/sources.list.d/autoradio.list
	else
		echo "provision: no packages: run 'make deb', copy dist/*.deb into vagrant-test/ and run" \
			"'dpkg-scanpackages -m . > Packages' there (see vagrant-test/README.md)" >&2
		exit 1
	fi
	# radiod runs Icecast itself: the stock service needs no setup.
	echo "icecast2 icecast2/icecast-setup boolean false" | debconf-set-selections
	apt-get update -q
	apt-get install -y -q etcd-server etcd-client autoradio-server
}

first_node() { echo "${all_nodes%%,*}"; }
client_url() { echo "http://$1:2379"; }

# etcd_urls lists the client URLs of every node: the daemons keep working
# when their local etcd is down.
etcd_urls() {
	local entry urls=
	local IFS=,
	for entry in $all_nodes; do urls="$urls${urls:+,}$(client_url "${entry#*=}")"; done
	echo "$urls"
}

# join_cluster adds this node to the cluster of the first node and prints
# the ETCD_INITIAL_CLUSTER that etcdctl gives for it. etcd refuses new
# members until the last one has been up for a few seconds: retry.
join_cluster() {
	local first out
	first=$(client_url "$(first_node | cut -d= -f2)")
	if etcdctl --endpoints="$first" member list | grep -q ", $name, "; then
		etcdctl --endpoints="$first" member list |
			awk -F', ' '{ printf "%s%s=%s", sep, $3, $4; sep = "," }'
		return
	fi
	for _ in $(seq 1 30); do
		if out=$(etcdctl --endpoints="$first" member add "$name" --peer-urls="http://$ip:2380" 2>&1); then
			sed -n 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/p' <<<"$out"
			return
		fi
		sleep 2
	done
	echo "provision: etcdctl member add $name failed: $out" >&2
	exit 1
}

configure() {
	local state=new cluster="$name=http://$ip:2380"
	if [ "$(first_node | cut -d= -f1)" != "$name" ]; then
		state=existing
		cluster=$(join_cluster)
	fi
	log "etcd cluster $cluster ($state)"
	"$repo/scripts/configure-node" --name "$name" --ip "$ip" --domain "$domain" \
		--initial-cluster "$cluster" --cluster-state "$state" \
		--nameservers "$nameservers" --etcd-urls "$(etcd_urls)"
}

# restart_etcd starts etcd with the new configuration; the member the
# package started with its default configuration (localhost only) is
# dropped with its data.
restart_etcd() {
	systemctl stop etcd
	rm -rf /var/lib/etcd/default
	systemctl start --no-block etcd
	for _ in $(seq 1 60); do
		if etcdctl --endpoints="$(client_url "$ip")" endpoint health >/dev/null 2>&1; then
			log "etcd healthy"
			return
		fi
		sleep 1
	done
	echo "provision: etcd did not become healthy" >&2
	exit 1
}

hosts
install_packages
configure
restart_etcd
# Saving /etc/default/autoradio (configure) started radiod and redirectord.
systemctl --no-pager status radiod redirectord || true
log "done: try 'dig @$ip $domain' and 'radioctl status'"
