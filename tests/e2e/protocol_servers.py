"""Real protocol servers inside a backend namespace of the testbed, for the end-to-end tests of
the health checks (issue 10): each one can be started, stopped and made to answer wrongly, and
is verified with a real client from the client namespace.

    server      port       "wrong" (set_wrong(True))                      client used by probe()
    nginx http  8080       /health answers 503, or 200 without "healthy"   curl
    nginx https 8443       (same server block, TLS, openssl req -x509)     curl --cacert
    dnsmasq     53 udp+tcp www.hc.test removed (hosts file, SIGHUP): NXDOMAIN   dig
    postfix     25         smtpd_client_restrictions=reject, no delay: the
                           greeting is "554 ... Access denied", not 220    smtplib
    vsftpd      21         the test user's password changed (chpasswd)     ftplib
    dovecot     143, 110   the passwd-file password changed                imaplib, poplib
    slapd       389        the bind entry's userPassword changed           ldapwhoami
    mariadb     3306       ALTER USER ... IDENTIFIED BY another password   mariadb client
    kamailio    5060 udp   (no wrong mode: down = stopped)                 sipsak
    jamnntpd    119        allow file without the client: "502 Access denied"   socket

Postfix's banner always starts with "220" (smtpd_banner is only the text after it), so its
wrong banner is the access denial that replaces the greeting when smtpd_delay_reject = no.

Every server binds 0.0.0.0 (the backends are direct-routing reals: the VIP is on lo), except
kamailio over UDP, which binds the backend's address and the VIP explicitly (bound to 0.0.0.0
it answers from the wrong address). All files live in a directory of the testbed's temporary
directory; the one system change, the test user (useradd, shell /bin/sh, home in that
directory), gets a name unique per run and is removed by close(). Every process is registered
with the testbed (testbed.add_pid), so an interrupted run still kills it.
"""
import os
import shutil
import signal
import subprocess
import uuid

from protocol_configs import (DOVECOT_CONF, KAMAILIO_CFG, NGINX_CONF, POSTFIX_MAIN,
                              POSTFIX_MASTER, POSTFIX_WRONG, SLAPD_BASE, SLAPD_CONF,
                              VSFTPD_CONF)
from methods import require_tools
from testbed import PYTHON, nsrun, run, wait_until, _kill_pid

DNS_NAME = "www.hc.test"
HEALTH_PATH = "/health"
HEALTH_BODY = "healthy"          # the substring a "receive" check expects
PASSWORD = "hc-Secret-1"
WRONG_PASSWORD = "hc-Wrong-2"
LDAP_SUFFIX = "dc=hc,dc=test"
LDAP_ADMIN = f"cn=admin,{LDAP_SUFFIX}"
LDAP_USER = f"uid=hc,{LDAP_SUFFIX}"
MYSQL_DB = "hcdb"
MYSQL_USER = "hc"


def _listening(ns, port, udp=False):
    out = nsrun(ns, ["ss", "-Hlnu" if udp else "-Hltn", "sport", "=", f":{port}"],
                check=False).stdout
    return bool(out.strip())


def make_cert(directory, name, cn="hc.test", ips=()):
    """A self-signed certificate (its own CA) with cn and ips as subject alternative names,
    made by openssl req -x509. Returns (cert path, key path)."""
    os.makedirs(directory, exist_ok=True)
    cert, key = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    san = ",".join([f"DNS:{cn}"] + [f"IP:{ip}" for ip in ips])
    run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN={cn}",
         "-addext", f"subjectAltName={san}"])
    return cert, key


class Server:
    """One server in backend b's namespace. Subclasses set name, port, udp and check_service,
    and implement _start() (returns the Popen), probe() and optionally _set_wrong()."""
    name = "?"
    port = 0
    udp = False
    check_service = ""
    tools = ()   # programs it needs (scripts/bootstrap.sh installs them)

    def __init__(self, env):
        self.env = env
        self.tb = env.tb
        self.b = env.b
        self.ns = env.b["ns"]
        self.ip = env.b["ip"]
        self.dir = os.path.join(env.dir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.proc = None
        self.wrong = False
        self.prepared = False

    # -- lifecycle ----------------------------------------------------------------------------

    def prepare(self):
        """One-time setup before the first start (config files, data directories)."""

    def start(self, timeout=20):
        if self.running():
            return self
        if not self.prepared:
            self.prepare()
            self.prepared = True
        self.proc = self._start()
        wait_until(lambda: self._alive() and _listening(self.ns, self.port, self.udp),
                   timeout=timeout, interval=0.05, what=f"{self.name} listening on {self.port}")
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}: "
                                 f"{self.env.log(self.proc)}")
        return True

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """Stops the server and waits until nothing listens on its port any more."""
        if self.proc is not None:
            self.env.stop(self.proc)
            self.proc = None
        wait_until(lambda: not _listening(self.ns, self.port, self.udp), timeout=10,
                   what=f"{self.name}'s port {self.port} closed")

    def set_wrong(self, wrong=True):
        """Makes the (running) server answer wrongly, or right again."""
        if wrong != self.wrong:
            self._set_wrong(wrong)
            self.wrong = wrong

    def _set_wrong(self, wrong):
        raise NotImplementedError(f"{self.name} has no wrong mode")

    # -- for the tests ------------------------------------------------------------------------

    def probe(self):
        """True when a real client from the client namespace gets a healthy answer."""
        raise NotImplementedError

    def check(self, **over):
        """The HEALTH_API check object of a negotiate check against this server."""
        c = {"type": "negotiate", "service": self.check_service, "port": self.port}
        c.update(over)
        return c

    def client_py(self, code, timeout=20):
        """Runs python code in the client namespace; True when it printed "OK"."""
        r = nsrun(self.tb.ns_cl, [PYTHON, "-c", code], check=False, timeout=timeout)
        return r.stdout.strip().endswith("OK")


# ---------------------------------------------------------------------------------------------


class Nginx(Server):
    """HTTP on 8080 and HTTPS on 8443 (one server block): / answers the backend's name (for
    traffic through the VIP), /big the testbed's large file (rate-limited like the testbed's
    nginx), /health "healthy NAME". wrong: "status" (503) or "body" (200
    "maintenance"); set_wrong(True) means "status"."""
    tools = ("nginx", "openssl", "curl")
    name = "nginx"
    port = 8080
    https_port = 8443
    check_service = "http"

    def prepare(self):
        os.makedirs(os.path.join(self.dir, "tmp"), exist_ok=True)
        self.cert, self.key = make_cert(self.dir, "server", ips=(self.ip, self.tb.vip))
        with open(os.path.join(self.dir, "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, http=self.port, https=self.https_port,
                                      cert=self.cert, key=self.key, health=HEALTH_PATH,
                                      body=HEALTH_BODY, name=self.b["name"],
                                      www=self.tb.www, rate=self.tb.rate))

    def _start(self):
        return self.env.start(["nginx", "-p", self.dir + "/", "-c",
                               os.path.join(self.dir, "nginx.conf"),
                               "-e", os.path.join(self.dir, "error.log")], "nginx")

    def set_wrong(self, wrong=True):
        kind = "status" if wrong is True else wrong
        for k in ("status", "body"):
            path = os.path.join(self.dir, f"wrong-{k}")
            if k == kind:
                open(path, "w").close()
            elif os.path.exists(path):
                os.unlink(path)
        self.wrong = kind

    def probe(self, https=False):
        url = (f"https://{self.ip}:{self.https_port}" if https else
               f"http://{self.ip}:{self.port}") + HEALTH_PATH
        r = nsrun(self.tb.ns_cl, ["curl", "-s", "-f", "--max-time", "3", "--cacert", self.cert,
                                  url], check=False)
        return r.returncode == 0 and HEALTH_BODY in r.stdout

    def check(self, https=False, **over):
        c = {"type": "negotiate", "service": "https" if https else "http",
             "port": self.https_port if https else self.port, "request": HEALTH_PATH,
             "receive": HEALTH_BODY}
        if https:
            c.update(verify=True, ca_file=self.cert)
        c.update(over)
        return c


class Dnsmasq(Server):
    tools = ("dnsmasq", "dig")
    name = "dnsmasq"
    port = 53
    udp = True
    check_service = "dns"

    def prepare(self):
        self.hosts = os.path.join(self.dir, "hosts")
        self._write_hosts(True)

    def _write_hosts(self, present):
        with open(self.hosts, "w") as f:
            f.write(f"{self.ip} {DNS_NAME}\n" if present else "")

    def _start(self):
        return self.env.start([
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
            "--no-hosts", "--port=53", "--user=root", "--group=root", "--local=/hc.test/",
            f"--addn-hosts={self.hosts}", f"--pid-file={self.dir}/dnsmasq.pid",
            f"--log-facility={self.dir}/dnsmasq.log"], "dnsmasq")

    def _set_wrong(self, wrong):
        self._write_hosts(not wrong)
        self.proc.send_signal(signal.SIGHUP)   # dnsmasq re-reads --addn-hosts

    def probe(self, tcp=False):
        r = nsrun(self.tb.ns_cl, ["dig", f"@{self.ip}", DNS_NAME, "A", "+short", "+tries=1",
                                  "+time=2"] + (["+tcp"] if tcp else []), check=False)
        return r.returncode == 0 and self.ip in r.stdout.split()

    def check(self, **over):
        c = {"type": "negotiate", "service": "dns", "port": 53, "protocol": "udp",
             "request": DNS_NAME, "query_type": "A"}
        c.update(over)
        return c


class Postfix(Server):
    """postfix's master run directly (master -c CONFDIR -d -s) with smtpd only; peer name
    lookups off (the namespaces have no DNS). max_use = 1: every connection gets a fresh smtpd,
    so a reload (SIGHUP) takes effect at the next connection."""
    tools = ("/usr/lib/postfix/sbin/master",)
    name = "postfix"
    port = 25
    check_service = "smtp"

    def prepare(self):
        self.conf = os.path.join(self.dir, "conf")
        for d in ("conf", "queue/pid", "queue/private", "queue/public", "data"):
            os.makedirs(os.path.join(self.dir, d), exist_ok=True)
        for d in ("queue/private", "queue/public", "data"):
            shutil.chown(os.path.join(self.dir, d), "postfix")
        self._write_main(False)
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(POSTFIX_MASTER)

    def _write_main(self, wrong):
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(POSTFIX_MAIN.format(dir=self.dir) + (POSTFIX_WRONG if wrong else ""))

    def _start(self):
        for stale in ("queue/pid/master.pid", "data/master.lock"):
            p = os.path.join(self.dir, stale)
            if os.path.exists(p):
                os.unlink(p)
        return self.env.start(["/usr/lib/postfix/sbin/master", "-c", self.conf, "-d", "-s"],
                              "postfix")

    def _set_wrong(self, wrong):
        self._write_main(wrong)
        self.proc.send_signal(signal.SIGHUP)

    def probe(self):
        return self.client_py(
            "import smtplib\n"
            f"s = smtplib.SMTP('{self.ip}', 25, 'client.test', timeout=3)\n"
            "code, _ = s.ehlo()\n"
            "s.quit()\n"
            "print('OK' if code == 250 else code)\n")

    def banner(self):
        """The first line the server sends (from the client namespace)."""
        r = nsrun(self.tb.ns_cl, [PYTHON, "-c",
                                  "import socket\n"
                                  f"s = socket.create_connection(('{self.ip}', 25), 3)\n"
                                  "print(s.recv(512).decode().splitlines()[0])\n"], check=False)
        return r.stdout.strip()


class TestUser:
    """A system user for vsftpd and dovecot (useradd, shell /bin/sh, home in the test
    directory), with a name unique per run; remove() deletes it."""

    def __init__(self, env):
        self.name = f"dlb{env.tb.sfx}{uuid.uuid4().hex[:4]}"
        self.home = os.path.join(env.dir, "home")
        run(["useradd", "-M", "-d", self.home, "-s", "/bin/sh", self.name])
        env.undo.append(self.remove)
        os.makedirs(self.home, exist_ok=True)
        shutil.chown(self.home, self.name, self.name)
        self.set_password(PASSWORD)

    def set_password(self, pw):
        run(["chpasswd"], input=f"{self.name}:{pw}\n")

    def remove(self):
        run(["userdel", "-f", self.name], check=False)


class Vsftpd(Server):
    tools = ("vsftpd", "useradd", "chpasswd")
    name = "vsftpd"
    port = 21
    check_service = "ftp"

    def prepare(self):
        self.user = self.env.user()
        self.conf = os.path.join(self.dir, "vsftpd.conf")
        with open(self.conf, "w") as f:
            f.write(VSFTPD_CONF.format(dir=self.dir))

    def _start(self):
        return self.env.start(["vsftpd", self.conf], "vsftpd")

    def _set_wrong(self, wrong):
        self.user.set_password(WRONG_PASSWORD if wrong else PASSWORD)

    def probe(self):
        return self.client_py(
            "import ftplib\n"
            f"f = ftplib.FTP('{self.ip}', timeout=3)\n"
            f"r = f.login('{self.user.name}', '{PASSWORD}')\n"
            "f.quit()\n"
            "print('OK' if r.startswith('230') else r)\n")

    def check(self, **over):
        c = {"type": "negotiate", "service": "ftp", "port": 21, "login": self.user.name,
             "password": PASSWORD}
        c.update(over)
        return c


class Dovecot(Server):
    """IMAP on 143 and POP3 on 110 (one dovecot). The passwd-file is re-read when it changes."""
    tools = ("dovecot", "useradd")
    name = "dovecot"
    port = 143
    pop3_port = 110
    check_service = "imap"

    def prepare(self):
        self.user = self.env.user()
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(DOVECOT_CONF.format(dir=self.dir, user=self.user.name, home=self.user.home))
        self._write_passwd(PASSWORD)

    def _write_passwd(self, pw):
        path = os.path.join(self.dir, "passwd")
        with open(path + ".tmp", "w") as f:
            f.write(f"{self.user.name}:{{PLAIN}}{pw}::::::\n")
        os.rename(path + ".tmp", path)

    def _start(self):
        return self.env.start(["dovecot", "-F", "-c", self.conf], "dovecot")

    def _set_wrong(self, wrong):
        self._write_passwd(WRONG_PASSWORD if wrong else PASSWORD)

    def probe(self, pop3=False):
        if pop3:
            return self.client_py(
                "import poplib\n"
                f"p = poplib.POP3('{self.ip}', 110, timeout=3)\n"
                f"p.user('{self.user.name}')\n"
                f"r = p.pass_('{PASSWORD}')\n"
                "p.quit()\n"
                "print('OK' if r.startswith(b'+OK') else r)\n")
        return self.client_py(
            "import imaplib\n"
            f"m = imaplib.IMAP4('{self.ip}', 143, timeout=3)\n"
            f"t, _ = m.login('{self.user.name}', '{PASSWORD}')\n"
            "m.logout()\n"
            "print('OK' if t == 'OK' else t)\n")

    def check(self, pop3=False, **over):
        c = {"type": "negotiate", "service": "pop3" if pop3 else "imap",
             "port": self.pop3_port if pop3 else self.port, "login": self.user.name,
             "password": PASSWORD}
        c.update(over)
        return c


class Slapd(Server):
    """slapd -f slapd.conf, an mdb database loaded with slapadd: the suffix and one user entry
    whose simple bind the check does (wrong: its userPassword replaced, as the rootdn)."""
    tools = ("slapd", "slapadd", "ldapmodify", "ldapwhoami")
    name = "slapd"
    port = 389
    check_service = "ldap"

    def prepare(self):
        self.conf = os.path.join(self.dir, "slapd.conf")
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(SLAPD_CONF.format(dir=self.dir, suffix=LDAP_SUFFIX, admin=LDAP_ADMIN,
                                      password=PASSWORD))
        ldif = os.path.join(self.dir, "base.ldif")
        with open(ldif, "w") as f:
            f.write(SLAPD_BASE.format(suffix=LDAP_SUFFIX, user=LDAP_USER, password=PASSWORD))
        run(["slapadd", "-f", self.conf, "-l", ldif])

    def _start(self):
        return self.env.start(["slapd", "-d", "0", "-f", self.conf, "-h", "ldap:///"], "slapd")

    def _set_wrong(self, wrong):
        pw = WRONG_PASSWORD if wrong else PASSWORD
        nsrun(self.ns, ["ldapmodify", "-x", "-H", "ldap://127.0.0.1", "-D", LDAP_ADMIN,
                        "-w", PASSWORD],
              input=f"dn: {LDAP_USER}\nchangetype: modify\nreplace: userPassword\n"
                    f"userPassword: {pw}\n")

    def probe(self):
        r = nsrun(self.tb.ns_cl, ["ldapwhoami", "-x", "-H", f"ldap://{self.ip}", "-D", LDAP_USER,
                                  "-w", PASSWORD, "-o", "nettimeout=3"], check=False)
        return r.returncode == 0 and LDAP_USER in r.stdout

    def check(self, **over):
        c = {"type": "negotiate", "service": "ldap", "port": 389, "login": LDAP_USER,
             "password": PASSWORD}
        c.update(over)
        return c


class Mariadb(Server):
    """mariadbd on a datadir made by mariadb-install-db, its own socket, port 3306; a user
    MYSQL_USER@'%' with PASSWORD and database MYSQL_DB (wrong: ALTER USER to another
    password)."""
    tools = ("mariadbd", "mariadb-install-db", "mariadb")
    name = "mariadb"
    port = 3306
    check_service = "mysql"

    def prepare(self):
        self.data = os.path.join(self.dir, "data")
        self.sock = os.path.join(self.dir, "mysqld.sock")
        run(["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=root",
             "--auth-root-authentication-method=socket", "--skip-test-db"], timeout=120)
        self.created = False

    def _start(self):
        p = self.env.start(["mariadbd", "--no-defaults", f"--datadir={self.data}",
                            f"--socket={self.sock}", "--port=3306", "--bind-address=0.0.0.0",
                            "--user=root", "--skip-name-resolve", "--skip-log-bin",
                            "--innodb-buffer-pool-size=16M", "--performance-schema=OFF",
                            f"--pid-file={self.dir}/mysqld.pid",
                            f"--log-error={self.dir}/error.log"], "mariadb")
        return p

    def start(self, timeout=60):
        super().start(timeout=timeout)
        if not self.created:
            self.sql(f"CREATE DATABASE IF NOT EXISTS {MYSQL_DB}; "
                     f"CREATE USER IF NOT EXISTS '{MYSQL_USER}'@'%' IDENTIFIED BY '{PASSWORD}'; "
                     f"GRANT ALL ON {MYSQL_DB}.* TO '{MYSQL_USER}'@'%';")
            self.created = True
        return self

    def sql(self, statements):
        nsrun(self.ns, ["mariadb", "--no-defaults", "-S", self.sock, "-u", "root", "-e",
                        statements])

    def _set_wrong(self, wrong):
        pw = WRONG_PASSWORD if wrong else PASSWORD
        self.sql(f"ALTER USER '{MYSQL_USER}'@'%' IDENTIFIED BY '{pw}';")

    def probe(self):
        r = nsrun(self.tb.ns_cl, ["mariadb", "--no-defaults", "-h", self.ip, "-P", "3306",
                                  "-u", MYSQL_USER, f"-p{PASSWORD}", "--connect-timeout=3",
                                  MYSQL_DB, "-N", "-e", "SELECT 42"], check=False)
        return r.returncode == 0 and r.stdout.strip() == "42"

    def check(self, **over):
        c = {"type": "negotiate", "service": "mysql", "port": 3306, "login": MYSQL_USER,
             "password": PASSWORD, "database": MYSQL_DB}
        c.update(over)
        return c


class Kamailio(Server):
    """kamailio answering SIP OPTIONS with 200 over UDP, on the backend's address and the VIP.
    No wrong mode: down = stopped."""
    tools = ("kamailio", "sipsak")
    name = "kamailio"
    port = 5060
    udp = True
    check_service = "sip"

    def prepare(self):
        self.cfg = os.path.join(self.dir, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(KAMAILIO_CFG.format(ip=self.ip, vip=self.tb.vip))
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)

    def _start(self):
        return self.env.start(["kamailio", "-DD", "-E", "-f", self.cfg, "-m", "16", "-M", "4",
                               "-P", os.path.join(self.dir, "kamailio.pid"),
                               "-Y", os.path.join(self.dir, "run"), "-w", self.dir], "kamailio")

    def probe(self):
        r = nsrun(self.tb.ns_cl, ["sipsak", "-s", f"sip:hc@{self.ip}:5060", "-v"],
                  check=False, timeout=15)
        return "SIP/2.0 200" in r.stdout

    def check(self, **over):
        c = {"type": "negotiate", "service": "sip", "port": 5060, "protocol": "udp"}
        c.update(over)
        return c


class Jamnntpd(Server):
    """jamnntpd on 119, every client allowed (banner 200/201); wrong: an allow file that lists
    nobody, so the greeting is "502 Access denied." """
    tools = ("jamnntpd",)
    name = "jamnntpd"
    port = 119
    check_service = "nntp"

    def prepare(self):
        # jamnntpd greets "503" without a group or without posting charsets (Debian's xlat)
        with open(os.path.join(self.dir, "groups"), "w") as f:
            f.write(f"hc.test A 2:1/1 {self.dir}/hcbase\n")
        open(os.path.join(self.dir, "users"), "w").close()
        self._write_allow(True)

    def _write_allow(self, everyone):
        with open(os.path.join(self.dir, "allow"), "w") as f:
            f.write("* * *\n" if everyone else "127.0.0.2 - -\n")

    def _start(self):
        d = self.dir
        return self.env.start(["jamnntpd", "-p", "119", "-m", "20", "-g", f"{d}/groups",
                               "-a", f"{d}/allow", "-u", f"{d}/users", "-x", "/etc/jamnntpd.xlat",
                               "-l", f"{d}/jamnntpd.log", "-noecholog"], "jamnntpd")

    def _set_wrong(self, wrong):
        self._write_allow(not wrong)   # read at every connection

    def banner(self):
        r = nsrun(self.tb.ns_cl, [PYTHON, "-c",
                                  "import socket\n"
                                  f"s = socket.create_connection(('{self.ip}', 119), 3)\n"
                                  "print(s.recv(512).decode().splitlines()[0])\n"], check=False)
        return r.stdout.strip()

    def probe(self):
        return self.banner()[:3] in ("200", "201")


SERVERS = {c.name: c for c in (Nginx, Dnsmasq, Postfix, Vsftpd, Dovecot, Slapd, Mariadb,
                               Kamailio, Jamnntpd)}


class ProtocolServers:
    """The protocol servers of one backend (names: SERVERS' keys). start(*names) starts them
    (all by default) and verifies each with probe(); close() stops everything and removes
    the test user, also after a failure."""

    def __init__(self, tb, backend):
        self.tb = tb
        self.b = backend
        self.dir = os.path.join(tb.tmp, f"proto-{backend['name']}-{uuid.uuid4().hex[:6]}")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.procs = []      # (Popen, log path)
        self.undo = []
        self._user = None
        self.servers = {name: cls(self) for name, cls in SERVERS.items()}

    def __getitem__(self, name):
        return self.servers[name]

    def user(self):
        if self._user is None:
            self._user = TestUser(self)
        return self._user

    def start_all(self, names=None):
        names = list(names or self.servers)
        require_tools(*sorted({t for n in names for t in self.servers[n].tools}))
        try:
            for n in names:
                self.servers[n].start()
            for n in names:
                s = self.servers[n]
                wait_until(s.probe, timeout=10, interval=0.2,
                           what=f"{n} on {self.b['name']} answering a real client")
        except BaseException:
            self.close()
            raise
        return self

    # -- processes ----------------------------------------------------------------------------

    def start(self, args, name):
        log = os.path.join(self.dir, f"{name}-{uuid.uuid4().hex[:4]}.log")
        with open(log, "w") as errf:
            p = subprocess.Popen(["ip", "netns", "exec", self.b["ns"]] + list(args),
                                 stdin=subprocess.DEVNULL, stdout=errf, stderr=errf)
        self.tb.add_pid(p.pid)
        self.procs.append((p, log))
        return p

    def log(self, p):
        for q, log in self.procs:
            if q is p:
                with open(log, errors="replace") as f:
                    return f.read()[-3000:]
        return ""

    def stop(self, p):
        """SIGTERM, and the namespace's children of it (dovecot, postfix and kamailio leave
        workers that exit with their master)."""
        _kill_pid(p.pid, timeout=10)
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        self.tb.remove_pid(p.pid)
        self.procs = [(q, log) for q, log in self.procs if q is not p]

    def close(self):
        errors = []
        for s in self.servers.values():
            try:
                if s.proc is not None:
                    self.stop(s.proc)
                    s.proc = None
            except Exception as e:
                errors.append(e)
        for p, _ in list(self.procs):
            try:
                self.stop(p)
            except Exception as e:
                errors.append(e)
        while self.undo:
            try:
                self.undo.pop()()
            except Exception as e:
                errors.append(e)
        if errors:
            raise errors[0]


if __name__ == "__main__":
    # Self-test: every server up, verified by its client, wrong, right, stopped, refused.
    import sys
    import time
    from testbed import Testbed
    names = sys.argv[1:] or list(SERVERS)
    tb = Testbed(n_backends=1, big_mb=1).up()
    ps = ProtocolServers(tb, tb.backends[0])
    try:
        for n in names:
            s = ps[n]
            t0 = time.monotonic()
            s.start()
            wait_until(s.probe, timeout=10, interval=0.2, what=f"{n} healthy")
            up = time.monotonic() - t0
            if n == "nginx":
                assert s.probe(https=True), "https"
            if n == "dovecot":
                assert s.probe(pop3=True), "pop3"
            if n == "dnsmasq":
                assert s.probe(tcp=True), "dns over tcp"
            wrong = "none"
            if n != "kamailio":
                s.set_wrong(True)
                wait_until(lambda: not s.probe(), timeout=10, interval=0.2, what=f"{n} wrong")
                if n in ("postfix", "jamnntpd"):
                    wrong = s.banner()
                s.set_wrong(False)
                wait_until(s.probe, timeout=10, interval=0.2, what=f"{n} right again")
                wrong = wrong if wrong != "none" else "ok"
            s.stop()
            assert not s.probe(), f"{n} answers after stop"
            print(f"{n}: up in {up:.2f}s, wrong: {wrong}, stopped: refused", flush=True)
    finally:
        ps.close()
        tb.down()
