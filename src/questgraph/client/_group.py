"""How a resource group is written once for both clients (docs/client.md, "How the client is built").

A group method builds the ``Call`` (what to send, whether a repeat is harmless, how to read the answer)
and does no I/O. ``@endpoint`` makes it the method that sends that call: on a group of a ``Client`` it
returns the answer, on a group of an ``AsyncClient`` it returns a coroutine of it. ``@paged`` does the
same for a list, following ``paging.next``: an iterator of its rows, or an async iterator. The types
follow: on ``Client.leaderboards`` a type checker sees ``submit_entry(api_name: str, score: int, …) ->
SubmitResult``; on ``AsyncClient.leaderboards`` the same parameters, returning ``Coroutine[…, SubmitResult]``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import MethodType
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from questgraph.client._base import BaseClient, Call, Rows

if TYPE_CHECKING:
    from typing import Self

    from questgraph.client._async_client import AsyncClient
    from questgraph.client._client import Client

P = ParamSpec("P")
T = TypeVar("T")
R = TypeVar("R")
C = TypeVar("C", bound=BaseClient)


class Group(Generic[C]):
    """A resource group (``client.leaderboards``…) of a ``Client`` or an ``AsyncClient``."""

    def __init__(self, client: C) -> None:
        self._client = client


class _Method:
    """A group method derived from its build: the sync or the async form, picked by the client's kind."""

    def __init__(self, build: Callable[..., Any], sync: Callable[..., Any], async_: Callable[..., Any]) -> None:
        # help() and inspect.signature show what was written: the build's name, docstring and parameters,
        # without its ``Call`` return type.
        signature = inspect.signature(build).replace(return_annotation=inspect.Signature.empty)
        for form in (sync, async_):
            functools.update_wrapper(form, build)
            form.__signature__ = signature  # type: ignore[attr-defined]
        self._sync, self._async = sync, async_
        self.__doc__ = build.__doc__

    def __get__(self, group: Group[Any] | None, owner: type[Any]) -> Any:
        if group is None:
            return self
        return MethodType(self._async if group._client._is_async else self._sync, group)


class endpoint(_Method, Generic[P, T]):
    """``@endpoint``: the group method that sends the one call its build makes."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[T]]) -> None:
        def sync(group: Group[Client], *args: Any, **kwargs: Any) -> Any:
            return group._client.send(build(group, *args, **kwargs))

        async def async_(group: Group[AsyncClient], *args: Any, **kwargs: Any) -> Any:
            # Built when awaited, not when called, as in any coroutine method.
            return await group._client.send(build(group, *args, **kwargs))

        super().__init__(build, sync, async_)
        self.build = build  # for a method that sends the same call with other arguments

    if TYPE_CHECKING:
        @overload
        def __get__(self, group: None, owner: type[Any]) -> Self: ...
        @overload
        def __get__(self, group: Group[Client], owner: type[Any]) -> Callable[P, T]: ...
        @overload
        def __get__(self, group: Group[AsyncClient], owner: type[Any]) -> Callable[P, Coroutine[Any, Any, T]]: ...
        def __get__(self, group: Group[Any] | None, owner: type[Any]) -> Any: ...


class paged(_Method, Generic[P, R]):
    """``@paged``: the group method that yields every row of a list whose first page its build asks for,
    fetching each next page (``paging.next``, D21) when the rows before it are used up."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[Rows[R]]]) -> None:
        def sync(group: Group[Client], *args: Any, **kwargs: Any) -> Iterator[Any]:
            for page in group._client.pages(build(group, *args, **kwargs)):
                yield from page.data

        async def async_(group: Group[AsyncClient], *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            async for page in group._client.pages(build(group, *args, **kwargs)):
                for row in page.data:
                    yield row

        super().__init__(build, sync, async_)

    if TYPE_CHECKING:
        @overload
        def __get__(self, group: None, owner: type[Any]) -> Self: ...
        @overload
        def __get__(self, group: Group[Client], owner: type[Any]) -> Callable[P, Iterator[R]]: ...
        @overload
        def __get__(self, group: Group[AsyncClient], owner: type[Any]) -> Callable[P, AsyncIterator[R]]: ...
        def __get__(self, group: Group[Any] | None, owner: type[Any]) -> Any: ...
