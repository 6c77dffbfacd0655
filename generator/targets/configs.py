"""Configuration files difygen writes into ConfigMaps (nginx, squid, sandbox).

Written by difygen rather than taken from Dify's compose setup: the compose files are
templates for a shell entrypoint that rewrites them at start, which needs a writable root
filesystem; ConfigMaps mounted read-only do not.
"""

from __future__ import annotations

# Paths the api serves, from Dify's nginx routing: console and service APIs, files,
# MCP and trigger webhooks. Everything else goes to the web front end.
API_PATHS = ("/console/api", "/api", "/v1", "/files", "/mcp", "/triggers")

_PROXY = """    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Port $server_port;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    proxy_read_timeout 3600s;
    proxy_send_timeout 3600s;
"""


def nginx_conf(*, websocket: bool, client_max_body_size: str = "100M") -> str:
    """The one server block: routes to api, web, plugin daemon (and websocket if on)."""
    blocks = [
        "server {",
        "  listen 8080;",
        "  server_name _;",
        f"  client_max_body_size {client_max_body_size};",
        "",
        "  location = /healthz {",
        "    access_log off;",
        "    default_type text/plain;",
        '    return 200 "ok\\n";',
        "  }",
    ]
    for path in API_PATHS:
        blocks += ["", f"  location {path} {{", "    proxy_pass http://dify-api:5001;",
                   _PROXY.rstrip("\n"), "  }"]
    blocks += ["", "  location /e/ {", "    proxy_pass http://dify-plugin-daemon:5002;",
               _PROXY.rstrip("\n"), "  }"]
    if websocket:
        blocks += [
            "", "  location /socket.io/ {", "    proxy_pass http://dify-api-websocket:5001;",
            "    proxy_http_version 1.1;",
            "    proxy_set_header Upgrade $http_upgrade;",
            '    proxy_set_header Connection "upgrade";',
            "    proxy_set_header Host $host;",
            "    proxy_read_timeout 3600s;",
            "  }",
        ]
    blocks += ["", "  location / {", "    proxy_pass http://dify-web:3000;",
               _PROXY.rstrip("\n"), "  }", "}"]
    return "\n".join(blocks) + "\n"


def squid_conf() -> str:
    """An SSRF guard: Dify's outbound requests may reach the internet, never the cluster.

    It runs as an unprivileged user: no disk cache, logs to stdout, pid file in /tmp.
    """
    return """# difygen: SSRF proxy for Dify (api, worker, sandbox, plugins, agents)
http_port 3128
# Reverse proxy to the sandbox, as in Dify's compose setup.
http_port 8194 accel vhost
cache_peer dify-sandbox parent 8194 0 no-query originserver name=sandbox
cache_peer_access sandbox allow all

acl localnet src 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 fc00::/7 fe80::/10 127.0.0.0/8
# Never let user-supplied URLs reach internal addresses or cloud metadata endpoints.
acl to_internal dst 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16 127.0.0.0/8 169.254.0.0/16
acl to_internal dst 100.64.0.0/10 ::1 fc00::/7 fe80::/10
acl SSL_ports port 443
acl Safe_ports port 80 443 1025-65535
acl CONNECT method CONNECT
acl sandbox_port myport 8194

http_access allow sandbox_port localnet
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access deny to_internal
http_access allow localnet
http_access deny all

cache deny all
cache_mem 16 MB
pid_filename /tmp/squid.pid
coredump_dir /tmp
access_log stdio:/dev/stdout
cache_log stdio:/dev/stderr
cache_store_log none
logfile_rotate 0
shutdown_lifetime 3 seconds
"""


def sandbox_conf() -> str:
    """dify-sandbox reads /conf/config.yaml at start and panics without it.

    The API key is not here: the API_KEY environment variable (from the Secret)
    overrides it.
    """
    return """app:
  port: 8194
  debug: false
  key: ""
max_workers: 4
max_requests: 50
worker_timeout: 15
python_path: /opt/python/bin/python3
enable_network: true
allowed_syscalls: []
proxy:
  socks5: ""
  http: http://dify-ssrf-proxy:3128
  https: http://dify-ssrf-proxy:3128
"""
