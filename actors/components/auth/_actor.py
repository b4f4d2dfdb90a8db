"""``Authority``: the ``auth`` service, owner of ``users.db``.

``setup()`` opens the :class:`~bms.auth.Directory` and makes sure the local
admin and its token file exist (``<data dir>/api.token``, 0600). Every ask
of :mod:`bms.auth.messages` is answered by :func:`bms.auth.answer`; the API
asks it to authenticate each request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from actors._base import BmsActor, handles
from actors._supervisor import ChildSpec
from bms.auth import USERS_DB, Directory, answer, ensure_local_admin
from bms.auth.messages import MESSAGES

if TYPE_CHECKING:
    from actors.platform import Platform

NAME = "auth"


def auth_component(platform: Platform) -> list[ChildSpec]:
    return [ChildSpec(NAME, Authority)]


class Authority(BmsActor):
    directory: Directory | None = None

    def setup(self) -> None:
        self.directory = Directory(self.ctx.data_dir / USERS_DB, self.clock.now)
        ensure_local_admin(self.directory, self.ctx.data_dir)

    def teardown(self) -> None:
        if self.directory is not None:
            self.directory.close()
            self.directory = None

    @handles(*MESSAGES)
    def on_ask(self, message: Any) -> Any:
        assert self.directory is not None
        return answer(self.directory, message)
