// What the signed-in user may do, read from HELLO's roles ("approver", "approver:MOF",
// "approver:MOF/BUDGET"). Only for what the page shows: the hub checks every press again.

/** The role names `me` holds in the scope of institution/system. */
export function rolesIn(me, institution, system) {
  const names = new Set();
  for (const role of me?.roles ?? []) {
    const [name, scope] = role.split(":", 2);
    if (!scope || scope === institution || scope === `${institution}/${system}`) names.add(name);
  }
  return names;
}

function holdsAny(me, plan, wanted) {
  const held = rolesIn(me, plan?.institution, plan?.system_name);
  return wanted.some((name) => held.has(name));
}

/** Approve/Reject: approvers and admins whose scope covers the plan's system. */
export function mayApprove(me, plan) {
  return holdsAny(me, plan, ["approver", "admin"]);
}

/** Cancel: the requester, or an approver or admin in the task's scope (hub/pipeline.py). */
export function mayCancel(me, task) {
  if (!me || !task) return false;
  if (task.requestedBy && task.requestedBy === me.user) return true;
  return holdsAny(me, task.plan, ["approver", "admin"]);
}
