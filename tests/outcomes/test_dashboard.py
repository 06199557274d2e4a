"""The dashboard's "After training" panel shows what the outcome report answers."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from tests.dashboard.helpers import sign_in
from tests.factories import make_key
from tests.outcomes.test_report import world


async def test_after_training_panel(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await world(client, session)
    admin = await make_key(session, "admin")
    assert (await sign_in(client, admin)).status_code == 303
    html = (await client.get("/dashboard")).text
    assert 'id="after-training"' in html
    # zte-ict: 75 % employed of those reached, 83.33 % of the completers answered.
    assert '<th scope="row">zte-ict</th>\n        <td class="num">75.00 %</td>' in html
    assert '<td class="num">83.33 %</td>' in html
    # Alibaba's first exports at 6 months: one store, one exporter, one order.
    exports = html.split('id="first-exports"')[1].split("</figure>")[0]
    assert '<th scope="row">6m</th>' in exports
    assert exports.count('<td class="num">1</td>') == 4
    # A reporter sees the same panel with small counts suppressed.
    reporter = await make_key(session, "reporter")
    assert (await sign_in(client, reporter)).status_code == 303
    html = (await client.get("/dashboard")).text
    exports = html.split('id="first-exports"')[1].split("</figure>")[0]
    assert "&lt;5" in exports
    assert '<td class="num">–</td>' in exports
