/**
 * Associates the contact with the course (a custom object) whose code they submitted on a form:
 * search the custom object, then a default v4 association.
 */
const hubspot = require('@hubspot/api-client');

exports.main = async (event, callback) => {
  const client = new hubspot.Client({ accessToken: process.env.HUBSPOT_TOKEN });
  const code = (event.inputFields.course_submitted || '').trim().toUpperCase();
  const found = await client.crm.objects.searchApi.doSearch('p_courses', {
    filterGroups: [{ filters: [{ propertyName: 'course_code', operator: 'EQ', value: code }] }],
    properties: ['course_code', 'title'],
  });
  if (found.total === 0) {
    callback({ outputFields: { course_id: '', course_title: '' } });
    return;
  }
  const course = found.results[0];
  await client.apiRequest({
    method: 'PUT',
    path: `/crm/v4/objects/contact/${event.object.objectId}/associations/default/p_courses/${course.id}`,
  });
  callback({ outputFields: { course_id: course.id, course_title: course.properties.title } });
};
