#!/usr/bin/env bash
# A private postfix instance on loopback for the delivery tests: Debian's postfix, configured in
# DIR, listening on 127.0.0.1:PORT, delivering the domain example.test to Maildirs under
# DIR/mail/example.test/<user>/. Known users: ann, bo, bounces. Mail to any other user of
# example.test is accepted at RCPT and then bounced with a real RFC 3464 report to its sender,
# as a relay that accepts first and delivers later does.
#
# Usage: postfix.sh start DIR PORT | postfix.sh stop DIR
set -euo pipefail
command=$1 dir=$2
etc=$dir/etc
if [[ $command == stop ]]; then
  postfix -c "$etc" stop >/dev/null 2>&1 || true
  # master may take a moment; make sure nothing is left behind.
  if [[ -f $dir/spool/pid/master.pid ]]; then
    kill "$(tr -d ' ' < "$dir/spool/pid/master.pid")" 2>/dev/null || true
  fi
  exit 0
fi
port=$3
mkdir -p "$etc" "$dir/spool" "$dir/data" "$dir/mail"
# postfix's daemons run as the postfix user and must reach the spool: open the way down to DIR
# (a test's temporary directory is 0700).
chmod 755 "$dir"
parent=$(dirname "$dir")
[[ $parent == / ]] || chmod a+x "$parent"
# postfix reads the default instance's main.cf before it reads ours; Debian's package, installed
# with "No configuration", leaves none.
[[ -f /etc/postfix/main.cf ]] || printf 'compatibility_level = 3.6\n' > /etc/postfix/main.cf
uid=$(id -u nobody) gid=$(id -g nobody)
cp /etc/postfix/master.cf "$etc/master.cf"
# The instance's own smtpd port instead of 25; no chroot (the spool is not set up for one).
sed -i -e 's/^smtp      inet  n       -       y       -       -       smtpd/127.0.0.1:'"$port"' inet n - n - - smtpd/' "$etc/master.cf"
sed -i -E 's/^([a-z]+ +unix +[-ny] +[-ny] +)y/\1n/' "$etc/master.cf"
grep -q "^127.0.0.1:$port " "$etc/master.cf" || { echo "postfix.sh: could not set the port in master.cf" >&2; exit 1; }
grep -q '^postlog' "$etc/master.cf" || echo 'postlog   unix-dgram n  -       n       -       1       postlogd' >> "$etc/master.cf"
cat > "$etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/spool
data_directory = $dir/data
mail_owner = postfix
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.example.test
mydomain = example.test
myorigin = example.test
mydestination =
mynetworks = 127.0.0.0/8
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = example.test
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = texthash:$etc/vmailbox
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid
smtpd_reject_unlisted_recipient = no
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
alias_maps =
alias_database =
notify_classes =
bounce_queue_lifetime = 0
maximal_queue_lifetime = 0
delay_warning_time = 0
EOF
cat > "$etc/vmailbox" <<EOF
ann@example.test example.test/ann/
bo@example.test example.test/bo/
bounces@example.test example.test/bounces/
EOF
chown -R "$uid:$gid" "$dir/mail"
postfix -c "$etc" set-permissions >/dev/null 2>&1 || true
postfix -c "$etc" check
postfix -c "$etc" start
