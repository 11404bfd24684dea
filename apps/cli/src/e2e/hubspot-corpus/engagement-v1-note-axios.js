// The legacy engagements API (still widely used): a NOTE on the contact and its company.
const axios = require('axios');

exports.main = async (event, callback) => {
  const token = process.env.privateAppToken;
  const contactId = Number(event.object.objectId);
  const companyId = Number(event.inputFields.company_id);
  const res = await axios.post(
    'https://api.hubapi.com/engagements/v1/engagements',
    {
      engagement: { active: true, type: 'NOTE', timestamp: Date.now() },
      associations: { contactIds: [contactId], companyIds: companyId ? [companyId] : [], dealIds: [], ownerIds: [] },
      metadata: { body: `Lead score passed ${event.inputFields.score}` },
    },
    { headers: { Authorization: `Bearer ${token}` } },
  );
  callback({ outputFields: { engagement_id: String(res.data.engagement.id), engagement_type: res.data.engagement.type } });
};
