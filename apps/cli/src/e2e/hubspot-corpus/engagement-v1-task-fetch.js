// A legacy v1 TASK on the company, with fetch, then read back to confirm its subject.
exports.main = async (event, callback) => {
  const headers = { Authorization: `Bearer ${process.env.HUBSPOT_TOKEN}`, 'Content-Type': 'application/json' };
  const created = await fetch('https://api.hubapi.com/engagements/v1/engagements', {
    method: 'POST',
    headers,
    body: JSON.stringify({
      engagement: { type: 'TASK', ownerId: Number(event.inputFields.owner_id) },
      associations: { companyIds: [Number(event.object.objectId)] },
      metadata: { subject: 'Quarterly business review', body: 'Book the QBR', status: 'NOT_STARTED', taskType: 'CALL' },
    }),
  });
  if (!created.ok) throw new Error(`engagement create failed: ${created.status} ${await created.text()}`);
  const { engagement } = await created.json();
  const again = await (await fetch(`https://api.hubapi.com/engagements/v1/engagements/${engagement.id}`, { headers })).json();
  callback({ outputFields: { task_id: String(engagement.id), subject: again.metadata.subject } });
};
