"""The ``plan_runs`` table: plan runs started from the planner screen (migration 0026; docs/design/planner-screen.md).

One row per run: who started it and when, what it covers (the whole map, districts or a box), its budget per year,
camera models and weights, where it stands (``vocabulary.PlanRunState``) with the solver's latest objective, bound
and gap and how many steps are done, and the GeoJSON it wrote. The row is the run's whole state: a browser that
reloads reads it again, and a server that restarts marks a run it was solving as interrupted.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from camgrid.db.base import Base


class PlanRun(Base):
    __tablename__ = "plan_runs"
    __table_args__ = (Index("ix_plan_runs_state", "state", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_ns: Mapped[int] = mapped_column(BigInteger)
    updated_ns: Mapped[int] = mapped_column(BigInteger)
    started_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    finished_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    area_kind: Mapped[str] = mapped_column(String(16))
    area: Mapped[str] = mapped_column(Text)  # JSON: {"districts": [...]} or {"bbox": [minlat, minlon, maxlat, maxlon]}
    districts: Mapped[str] = mapped_column(Text, default="")  # comma list for the scope ("" = city or box: unscoped)
    budgets: Mapped[str] = mapped_column(String(400))  # JSON list, one per year
    models: Mapped[str] = mapped_column(String(1000))  # JSON list of camera model names
    weights: Mapped[str] = mapped_column(Text, default="{}")  # JSON {category: weight} overriding planner.*
    solver: Mapped[str] = mapped_column(String(16))
    engine: Mapped[str] = mapped_column(String(16), default="")  # "district" (today's solver) or "city"
    objective: Mapped[float | None] = mapped_column(Float, nullable=True)
    bound: Mapped[float | None] = mapped_column(Float, nullable=True)
    gap: Mapped[float | None] = mapped_column(Float, nullable=True)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    # the step that runs (``prepare``, ``kelley:2``, ``greedy:1``; migration 0027): done/total count within it
    phase: Mapped[str] = mapped_column(String(40), default="")
    stop_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    detail: Mapped[str] = mapped_column(String(500), default="")
    result_path: Mapped[str] = mapped_column(String(1000), default="")
    cameras: Mapped[int] = mapped_column(Integer, default=0)
    imported_ns: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
