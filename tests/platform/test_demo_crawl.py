"""Every link a person can follow in the seeded demo organization answers without a server error: a walk
from the home page, as the admin, a project manager and a staff member, through every link under the
organization (two variants of each page's query string, so sorts and filters are followed too)."""

import re
from collections import Counter
from urllib.parse import urljoin, urlparse

import pytest

from cxprogram.core.demo import DEMO_PASSWORD, seed_demo

pytestmark = pytest.mark.django_db

LINK = re.compile(r'href="([^"#]+)"')
SKIP = ("/logout", "/delete", "/revoke", ".pdf")  # GET pages only; the PDFs have their own tests


def links(page: str, base: str, prefix: str) -> list[str]:
    found = []
    for href in LINK.findall(page):
        parsed = urlparse(urljoin(base, href.replace("&amp;", "&")))
        url = parsed.path + (f"?{parsed.query}" if parsed.query else "")
        if not parsed.netloc and url.startswith(prefix) and not any(s in url for s in SKIP):
            found.append(url)
    return found


@pytest.mark.parametrize("email", ["admin@harborview.example", "pm@harborview.example", "staff@harborview.example"])
def test_no_link_in_the_demo_is_a_server_error(client, email):
    organization = seed_demo()
    assert client.login(email=email, password=DEMO_PASSWORD)
    prefix = f"/o/{organization.slug}/"
    queue, seen, per_path, failures = [prefix], set(), Counter(), {}
    while queue:
        url = queue.pop(0)
        path = urlparse(url).path
        if url in seen or per_path[path] >= 2:
            continue
        seen.add(url)
        per_path[path] += 1
        response = client.get(url)
        if response.status_code >= 500 or response.status_code == 404:
            failures[url] = response.status_code
        elif response.status_code == 200 and "html" in response.get("Content-Type", ""):
            queue += links(response.content.decode(), url, prefix)
    assert failures == {}
    assert len(seen) > (150 if email.startswith("admin") else 20)  # the walk reached the product, not a wall
