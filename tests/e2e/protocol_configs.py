"""Configuration file templates of the protocol servers (tests/e2e/protocol_servers.py),
formatted there with each server's directory, addresses and credentials."""

from testbed import nginx_head

NGINX_CONF = nginx_head(256) + """\
    server {{
        listen 0.0.0.0:{http};
        listen 0.0.0.0:{https} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        server_name _;
        default_type text/plain;
        location = {health} {{
            if (-f {dir}/wrong-status) {{ return 503 "unavailable\\n"; }}
            if (-f {dir}/wrong-body) {{ return 200 "maintenance\\n"; }}
            return 200 "{body} {name}\\n";
        }}
        location = /big {{
            root {www};
            default_type application/octet-stream;
            limit_rate {rate};
        }}
        location / {{ return 200 "{name}\\n"; }}
    }}
}}
"""

POSTFIX_MAIN = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = hc.test
mydestination =
local_recipient_maps =
inet_interfaces = all
inet_protocols = ipv4
maillog_file = /dev/stdout
smtpd_peername_lookup = no
max_use = 1
biff = no
"""

POSTFIX_WRONG = "smtpd_delay_reject = no\nsmtpd_client_restrictions = reject\n"

POSTFIX_MASTER = """\
smtp      inet  n       -       n       -       -       smtpd
postlog   unix-dgram n  -       n       -       1       postlogd
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
"""

VSFTPD_CONF = """\
listen=YES
listen_ipv6=NO
listen_port=21
background=NO
anonymous_enable=NO
local_enable=YES
write_enable=NO
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
xferlog_enable=NO
dual_log_enable=NO
vsftpd_log_file={dir}/vsftpd.log
delay_failed_login=0
"""

DOVECOT_CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
protocols = imap pop3
listen = *
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {dir}/dovecot.log
auth_failure_delay = 0
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={user} home={home}
}}
mail_location = maildir:{home}/Maildir
# no auth penalty for the checker's repeated failures from one address (up to 15 s of delay)
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 143
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 110
  }}
}}
"""

SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{admin}"
rootpw {password}
directory {dir}/db
access to * by * read
"""

SLAPD_BASE = """\
dn: {suffix}
objectClass: dcObject
objectClass: organization
o: hc
dc: hc

dn: {user}
objectClass: inetOrgPerson
uid: hc
cn: hc
sn: hc
userPassword: {password}
"""

KAMAILIO_CFG = """\
#!KAMAILIO
debug=1
log_stderror=yes
fork=yes
children=1
disable_tcp=yes
auto_aliases=no
listen=udp:{ip}:5060
listen=udp:{vip}:5060
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "sl.so"
request_route {{
    if (method == "OPTIONS") {{
        sl_send_reply("200", "OK");
        exit;
    }}
    sl_send_reply("501", "Not Implemented");
}}
"""
